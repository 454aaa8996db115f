# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A server stopped in the middle of a run: a clear error, and once it is back no orphan and no duplicate."""

from __future__ import annotations

import threading
import time

from ansible_collections.ipam.allocator.plugins.module_utils._ipam.registry import load_backend
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.core.errors import IpamError

NAMES = ['host%02d' % number for number in range(20)]


def test_server_stopped_mid_run(server, backend, api, cidr, control):
    backend.ensure_pool({'name': cidr, 'cidr': cidr})
    done, failures = [], []

    def run():
        # One task after another, each with its own backend, as forks of a play would be.
        for name in NAMES:
            try:
                with load_backend(server.options) as each:
                    done.append((name, each.allocate(cidr, name).after['address']))
            except IpamError as exc:
                failures.append((name, exc))
                return

    worker = threading.Thread(target=run)
    worker.start()
    while len(done) < 5:
        time.sleep(0.05)
    stop = control('stop', server.name, check=False)
    try:
        worker.join(timeout=300)
        assert not worker.is_alive()
        assert stop.returncode == 0, stop.stderr
        assert len(failures) == 1, (done, failures)
        name, error = failures[0]
        message = str(error)
        assert ('Cannot reach %s at %s' % (server.product, server.url) in message
                or 'busy or unavailable' in message), message
        assert 'check the url and that the server is up' in message or 'rerun the task' in message
        assert server.token not in message
        print('%s stopped mid-run: %s' % (server.product, message))
    finally:
        start = control('start', server.name, check=False)
        assert start.returncode == 0, start.stderr
    # Back up: every object in the prefix is an allocation with its name; nothing orphaned, nothing twice.
    objects = api.ips_in(cidr)
    held = {view['name']: view['address'] for view in backend.allocations(pool=cidr)}
    assert len(objects) == len(held)
    assert set(held) >= {name for name, _address in done}
    assert set(held) <= {name for name, _address in done} | {name}
    # A rerun finishes the job: the interrupted name gets one address (the one it may already hold), the rest stay.
    with load_backend(server.options) as again:
        after = {each: again.allocate(cidr, each).after['address'] for each in NAMES}
    assert len(set(after.values())) == len(NAMES)
    assert all(after[each] == address for each, address in done)
    if name in held:
        assert after[name] == held[name]
    assert len(api.ips_in(cidr)) == len(NAMES)
