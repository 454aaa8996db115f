# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Real processes against one store: no duplicates, no lost records, no stuck lock, no torn write."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import sys
import time

import pytest

from ansible_collections.ipam.allocator.plugins.module_utils._ipam.backend import load_backend
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.errors import StoreLockTimeoutError
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.locking import FileLock

PROCESSES = 32
NAMES_EACH = 20

# Fork keeps the test's sys.path (the collection import) in the children.
CONTEXT = multiprocessing.get_context('fork')


def allocate_many(path, worker, start_gate):
    start_gate.wait()
    backend = load_backend({'store': path, 'lock_timeout': 120})
    for index in range(NAMES_EACH):
        backend.allocate('big', 'w%02d-n%02d' % (worker, index))


@pytest.mark.parametrize('extension', ['yml', 'json', 'sqlite'])
def test_32_processes_allocate_640_distinct_addresses(tmp_path, extension):
    path = str(tmp_path / ('store.' + extension))
    load_backend({'store': path}).ensure_pool({'name': 'big', 'cidr': '10.0.0.0/16'})
    start_gate = CONTEXT.Event()
    workers = [CONTEXT.Process(target=allocate_many, args=(path, worker, start_gate)) for worker in range(PROCESSES)]
    for process in workers:
        process.start()
    start_gate.set()
    for process in workers:
        process.join(300)
        assert process.exitcode == 0
    allocations = load_backend({'store': path}).allocations(pool='big')
    assert len(allocations) == PROCESSES * NAMES_EACH
    assert len({view['address'] for view in allocations}) == PROCESSES * NAMES_EACH
    assert {view['name'] for view in allocations} == {'w%02d-n%02d' % (w, i) for w in range(PROCESSES) for i in range(NAMES_EACH)}
    # Lowest-first with nothing released: exactly the first 640 hosts.
    assert sorted(view['address'] for view in allocations) == sorted('10.0.%d.%d' % divmod(n, 256) for n in range(1, 641))


def hold_lock_forever(lock_path, ready):
    with FileLock(lock_path, 5):
        ready.set()
        time.sleep(600)


def test_holder_killed_by_sigkill_does_not_block_others(tmp_path):
    path = str(tmp_path / 'store.yml')
    backend = load_backend({'store': path, 'lock_timeout': 0.3})
    backend.ensure_pool({'name': 'lab', 'cidr': '10.0.0.0/24'})
    ready = CONTEXT.Event()
    holder = CONTEXT.Process(target=hold_lock_forever, args=(path + '.lock', ready))
    holder.start()
    try:
        assert ready.wait(30)
        before = open(path, 'rb').read()
        with pytest.raises(StoreLockTimeoutError, match=r'held by pid %d on .* since' % holder.pid):
            backend.allocate('lab', 'blocked')
        assert open(path, 'rb').read() == before
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.join(30)
    assert backend.allocate('lab', 'after-kill').after['address'] == '10.0.0.1'


def test_lock_timeout_zero_fails_at_once(tmp_path):
    lock_path = str(tmp_path / 'x.lock')
    with FileLock(lock_path, 1):
        started = time.monotonic()
        with pytest.raises(StoreLockTimeoutError, match='raise lock_timeout'):
            with FileLock(lock_path, 0):
                pass
        assert time.monotonic() - started < 5


def snapshot(path):
    return {(view['name'], view['address'], view['description']) for view in load_backend({'store': path}).allocations()}


def single_change_then_killed(path, name, pipe):
    backend = load_backend({'store': path})
    pipe.send('go')
    backend.allocate('lab', name, description='y' * 5000)


@pytest.mark.parametrize('extension', ['yml', 'json', 'sqlite'])
def test_one_change_killed_at_random_instants_is_before_or_after(tmp_path, extension):
    """A single known change, killed at a random instant: the store equals exactly before or exactly after."""
    path = str(tmp_path / ('store.' + extension))
    backend = load_backend({'store': path})
    backend.ensure_pool({'name': 'lab', 'cidr': '10.0.0.0/16'})
    for index in range(300):
        backend.allocate('lab', 'seed%03d' % index, description='z' * 50)
    # Spread the kills over the time one such write takes in a writer process like the victims (its
    # first write in a fresh process, until it exits), so some land before and some after the commit.
    parent_end, child_end = CONTEXT.Pipe()
    writer = CONTEXT.Process(target=single_change_then_killed, args=(path, 'calibration', child_end))
    writer.start()
    parent_end.recv()
    started = time.monotonic()
    writer.join(30)
    write_time = time.monotonic() - started
    assert writer.exitcode == 0
    rng = random.Random(7)
    outcomes = set()
    for round_number in range(200):
        name = 'victim%03d' % round_number
        before = snapshot(path)
        parent_end, child_end = CONTEXT.Pipe()
        writer = CONTEXT.Process(target=single_change_then_killed, args=(path, name, child_end))
        writer.start()
        parent_end.recv()
        time.sleep(rng.uniform(0.0, 1.5 * write_time))
        os.kill(writer.pid, signal.SIGKILL)
        writer.join(30)
        after = snapshot(path)
        expected_after = before | {(name, after_address, 'y' * 5000) for nm, after_address, _d in after if nm == name}
        if after == before:
            outcomes.add('before')
        else:
            assert after == expected_after and len(after) == len(before) + 1
            outcomes.add('after')
    # The random instants must have hit both sides at least once, or the test proves nothing.
    assert outcomes == {'before', 'after'}, outcomes


if sys.platform != 'linux':  # pragma: no cover
    pytestmark = pytest.mark.skip(reason='fork and SIGKILL semantics are tested on Linux')
