# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Real processes against one store: no duplicates, no lost records, no stuck lock, no torn write."""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import random
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest

from ansible_collections.ipam.allocator.plugins.module_utils._ipam.registry import load_backend
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.core.errors import StoreLockTimeoutError
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.filestore.locking import FileLock

PROCESSES = 32
NAMES_EACH = 20

# Fork keeps the test's sys.path (the collection import) in the children.
CONTEXT = multiprocessing.get_context('fork')


def allocate_many(path, worker, start_gate, count):
    start_gate.wait()
    backend = load_backend({'store': path, 'lock_timeout': 120})
    for index in range(count):
        backend.allocate('big', 'w%02d-n%02d' % (worker, index))


def allocate_together(paths, count):
    """One process per path, released together, each allocating ``count`` names in pool 'big'."""
    start_gate = CONTEXT.Event()
    workers = [CONTEXT.Process(target=allocate_many, args=(path, worker, start_gate, count)) for worker, path in enumerate(paths)]
    for process in workers:
        process.start()
    start_gate.set()
    for process in workers:
        process.join(300)
        assert process.exitcode == 0


@pytest.mark.parametrize('extension', ['yml', 'json', 'sqlite'])
def test_32_processes_allocate_640_distinct_addresses(tmp_path, extension):
    path = str(tmp_path / ('store.' + extension))
    load_backend({'store': path}).ensure_pool({'name': 'big', 'cidr': '10.0.0.0/16'})
    allocate_together([path] * PROCESSES, NAMES_EACH)
    allocations = load_backend({'store': path}).allocations(pool='big')
    assert len(allocations) == PROCESSES * NAMES_EACH
    assert len({view['address'] for view in allocations}) == PROCESSES * NAMES_EACH
    assert {view['name'] for view in allocations} == {'w%02d-n%02d' % (w, i) for w in range(PROCESSES) for i in range(NAMES_EACH)}
    # Lowest-first with nothing released: exactly the first 640 hosts.
    assert sorted(view['address'] for view in allocations) == sorted('10.0.%d.%d' % divmod(n, 256) for n in range(1, 641))


@pytest.mark.parametrize('extension', ['yml', 'json', 'sqlite'])
def test_writers_through_a_link_and_through_the_real_path_share_one_lock(tmp_path, extension):
    os.mkdir(tmp_path / 'data')
    real = str(tmp_path / 'data' / ('store.' + extension))
    link = str(tmp_path / ('link.' + extension))
    os.symlink(real, link)
    load_backend({'store': real}).ensure_pool({'name': 'big', 'cidr': '10.0.0.0/16'})
    allocate_together([real, link] * 4, 10)
    allocations = load_backend({'store': link}).allocations(pool='big')
    assert len(allocations) == 80 and len({view['address'] for view in allocations}) == 80
    assert os.path.islink(link)


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
        with pytest.raises(StoreLockTimeoutError, match=r'held by pid %d on .* since .*, which is still running' % holder.pid):
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


def take_the_lock_and_exit(lock_path):
    with FileLock(lock_path, 5):
        pass


def hold_without_a_stamp(lock_path, ready):
    descriptor = os.open(lock_path, os.O_RDWR)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    ready.set()
    time.sleep(600)


def test_a_timeout_says_when_the_stamped_holder_has_exited(tmp_path):
    """The stamp is the last holder's; the lock may be held by a process that has not stamped it yet."""
    lock_path = str(tmp_path / 'store.yml.lock')
    earlier = CONTEXT.Process(target=take_the_lock_and_exit, args=(lock_path,))
    earlier.start()
    earlier.join(30)
    assert earlier.exitcode == 0
    ready = CONTEXT.Event()
    holder = CONTEXT.Process(target=hold_without_a_stamp, args=(lock_path, ready))
    holder.start()
    try:
        assert ready.wait(30)
        with pytest.raises(StoreLockTimeoutError) as failure:
            with FileLock(lock_path, 0.2):
                pass
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.join(30)
    message = str(failure.value)
    assert 'held by pid %d' % earlier.pid not in message
    assert 'pid %d on ' % earlier.pid in message and 'no longer running' in message


def test_a_timeout_does_not_take_a_reused_pid_for_the_holder(tmp_path):
    """The stamp's pid now belongs to a process that started after the stamp: not the holder."""
    lock_path = str(tmp_path / 'store.yml.lock')
    with open(lock_path, 'w', encoding='utf-8') as handle:
        handle.write('pid %d on %s (ansible-playbook) since 2000-01-01T00:00:00+0000\n' % (os.getpid(), socket.gethostname()))
    ready = CONTEXT.Event()
    holder = CONTEXT.Process(target=hold_without_a_stamp, args=(lock_path, ready))
    holder.start()
    try:
        assert ready.wait(30)
        with pytest.raises(StoreLockTimeoutError, match='pid %d .* which is no longer running' % os.getpid()):
            with FileLock(lock_path, 0.1):
                pass
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.join(30)


# A holder started as a program of its own, with a secret on its command line as --extra-vars would put it.
HOLDER_PROGRAM = textwrap.dedent('''
    import sys
    sys.path.insert(0, sys.argv[1])
    from ansible_collections.ipam.allocator.plugins.module_utils._ipam.filestore.locking import FileLock
    with FileLock(sys.argv[2], 5):
        print('locked', flush=True)
        sys.stdin.readline()
''')


def test_the_stamp_names_the_program_and_pid_never_its_arguments(tmp_path):
    lock_path = str(tmp_path / 'store.yml.lock')
    program = tmp_path / 'ansible-playbook'
    program.write_text(HOLDER_PROGRAM, encoding='utf-8')
    module_file = os.path.abspath(sys.modules[FileLock.__module__].__file__)
    collections = module_file[:module_file.rindex(os.sep + 'ansible_collections' + os.sep)]
    holder = subprocess.Popen([sys.executable, str(program), collections, lock_path, '--extra-vars=password=hunter2'],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == 'locked\n'
        with pytest.raises(StoreLockTimeoutError) as failure:
            with FileLock(lock_path, 0.1):
                pass
    finally:
        holder.communicate('done\n', timeout=30)
    message = str(failure.value)
    assert 'held by pid %d on ' % holder.pid in message and '(ansible-playbook)' in message
    assert 'hunter2' not in message and 'extra-vars' not in message
    with open(lock_path, 'rb') as handle:
        stamp = handle.read()
    assert b'hunter2' not in stamp and b'extra-vars' not in stamp and b'ansible-playbook' in stamp


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
