# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""50 processes allocate into one prefix at the same moment: 50 distinct addresses, no failure, on each server."""

from __future__ import annotations

import multiprocessing
import time

from ansible_collections.ipam.allocator.plugins.module_utils._ipam.registry import load_backend

PROCESSES = 50
CONTEXT = multiprocessing.get_context('fork')


def allocate_one(options, pool, name, gate, results):
    gate.wait()
    try:
        with load_backend(options) as backend:
            outcome = backend.allocate(pool, name)
        results.put((name, 'ok', outcome.after['address'], outcome.changed))
    except Exception as exc:  # pylint: disable=broad-except  # the test reports every failure, of any kind
        results.put((name, 'error', '%s: %s' % (type(exc).__name__, exc), None))


def run_all(options, pool, names):
    gate = CONTEXT.Event()
    results = CONTEXT.Queue()
    workers = [CONTEXT.Process(target=allocate_one, args=(options, pool, name, gate, results)) for name in names]
    for worker in workers:
        worker.start()
    time.sleep(0.5)
    started = time.monotonic()
    gate.set()
    found = [results.get(timeout=300) for _worker in workers]
    for worker in workers:
        worker.join(timeout=60)
    return found, time.monotonic() - started


def test_fifty_processes_fifty_distinct_addresses(server, backend, api, cidr):
    backend.ensure_pool({'name': cidr, 'cidr': cidr})
    names = ['host%02d' % number for number in range(PROCESSES)]
    found, elapsed = run_all(server.options, cidr, names)
    errors = [item for item in found if item[1] != 'ok']
    assert errors == [], errors
    addresses = [item[2] for item in found]
    assert len(set(addresses)) == PROCESSES and all(item[3] for item in found)
    # The server holds exactly one object per name, and the next run changes nothing.
    objects = api.ips_in(cidr)
    assert len(objects) == PROCESSES
    views = backend.allocations(pool=cidr)
    assert sorted(view['name'] for view in views) == names
    assert {view['name']: view['address'] for view in views} == {item[0]: item[2] for item in found}
    again, _elapsed = run_all(server.options, cidr, names)
    assert sorted(again) == sorted((name, 'ok', address, False) for name, _ok, address, _changed in found)
    print('%s: %d concurrent allocations in %.1f s' % (server.product, PROCESSES, elapsed))
