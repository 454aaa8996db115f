# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""One name, one address, on the real servers, when an answer comes too late and when processes race for one name.

Neither NetBox nor Nautobot keeps names unique, so both cases used to leave two
addresses for one name: a POST timed out on purpose (held back by a proxy) that
the server carries out after the retry, and several processes allocating the same
name at the same moment.
"""

from __future__ import annotations

import multiprocessing
import time

import pytest

from ansible_collections.ipam.allocator.plugins.module_utils._ipam.registry import load_backend
from ansible_collections.ipam.allocator.tests.remote._late_proxy import LateProxy

CONTEXT = multiprocessing.get_context('fork')
AVAILABLE_IPS = r'/api/ipam/prefixes/[^/]+/available-ips/$'
TIMEOUT = 5     # seconds the backend waits for the held POST (and for the rest: the test machine may be busy)


def objects_named(api, cidr, name):
    return [obj for obj in api.ips_in(cidr) if (obj.get('description') or '') == name]


def pool_with_our_tag(backend, cidr):
    """The pool, and the tag ipam-allocator made (by a first allocation), so that a held POST is not refused for it."""
    backend.ensure_pool({'name': cidr, 'cidr': cidr})
    backend.allocate(cidr, 'first')


def test_a_post_that_lands_before_the_check_is_kept_once(server, backend, api, cidr):
    # The held POST lands after the second one was made and before the name is checked: both are found, the first
    # made (the second POST's) is kept, the late one deleted, and the task says so.
    pool_with_our_tag(backend, cidr)
    with LateProxy(server.url, AVAILABLE_IPS, when='before-confirm') as proxy:
        with load_backend(dict(server.options, url=proxy.url, timeout=TIMEOUT)) as through_proxy:
            outcome = through_proxy.allocate(cidr, 'web01')
            warnings = list(through_proxy.warnings)
        assert proxy.landed.is_set() and proxy.late_answer[0] == 201
    held = objects_named(api, cidr, 'web01')
    assert [obj['address'].split('/')[0] for obj in held] == [outcome.after['address']]
    assert len(warnings) == 1 and "held 2 objects for 'web01'" in warnings[0], warnings
    assert proxy.late_answer[1]['address'].split('/')[0] != outcome.after['address']
    with load_backend(server.options) as again:
        rerun = again.allocate(cidr, 'web01')
    assert not rerun.changed and rerun.after['address'] == outcome.after['address'] and again.warnings == []


def test_a_post_that_lands_after_the_task_is_met_by_the_next_run(server, backend, api, cidr):
    # The held POST lands after the task returned: the server holds two addresses for the name until the next run,
    # which keeps the one the task reported (made first) and deletes the other, instead of failing on every rerun.
    pool_with_our_tag(backend, cidr)
    with LateProxy(server.url, AVAILABLE_IPS, when='on-release') as proxy:
        with load_backend(dict(server.options, url=proxy.url, timeout=TIMEOUT)) as through_proxy:
            first = through_proxy.allocate(cidr, 'web01')
        proxy.release()
        assert proxy.landed.wait(timeout=60) and proxy.late_answer[0] == 201
    assert len(objects_named(api, cidr, 'web01')) == 2
    with load_backend(server.options) as again:
        rerun = again.allocate(cidr, 'web01')
        warnings = list(again.warnings)
    assert not rerun.changed and rerun.after['address'] == first.after['address']
    assert len(warnings) == 1 and 'kept %s' % first.after['cidr'] in warnings[0], warnings
    assert [obj['address'] for obj in objects_named(api, cidr, 'web01')] == [first.after['cidr']]


def allocate_at_once(options, pool, name, gate, results):
    gate.wait()
    try:
        with load_backend(options) as backend:
            outcome = backend.allocate(pool, name)
            results.put((name, 'ok', outcome.after['address'], list(backend.warnings)))
    except Exception as exc:  # pylint: disable=broad-except  # the test reports every failure, of any kind
        results.put((name, 'error', '%s: %s' % (type(exc).__name__, exc), []))


@pytest.mark.parametrize('processes', [2, 6])
def test_processes_racing_for_one_name_get_one_address(server, backend, api, cidr, processes):
    pool_with_our_tag(backend, cidr)
    for round_number in range(4):
        name = 'race%d' % round_number
        gate, results = CONTEXT.Event(), CONTEXT.Queue()
        workers = [CONTEXT.Process(target=allocate_at_once, args=(server.options, cidr, name, gate, results))
                   for _worker in range(processes)]
        for worker in workers:
            worker.start()
        time.sleep(0.5)
        gate.set()
        found = [results.get(timeout=300) for _worker in workers]
        for worker in workers:
            worker.join(timeout=60)
        assert [item for item in found if item[1] != 'ok'] == []
        addresses = {item[2] for item in found}
        assert len(addresses) == 1, found      # every task reports the same address
        assert [obj['address'].split('/')[0] for obj in objects_named(api, cidr, name)] == list(addresses)
        print('%s, %d processes, %s: %d warning(s)' % (server.product, processes, name, sum(len(item[3]) for item in found)))
