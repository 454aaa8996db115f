# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Bulk tasks from many processes at once, with overlapping name lists: one address per name, none held twice."""

from __future__ import annotations

import multiprocessing
import random

import pytest

from ansible_collections.ipam.allocator.plugins.module_utils._ipam.registry import load_backend
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.core.bulk import AddressRequest, requests_from_items

PROCESSES = 12
ROUNDS = 4
NAMES = ['host%03d' % index for index in range(300)]

# Fork keeps the test's sys.path (the collection import) in the children.
CONTEXT = multiprocessing.get_context('fork')


def lists_of(worker):
    """Each worker's bulk tasks: overlapping slices of NAMES in an order of its own, and a rerun of the first."""
    chooser = random.Random(worker)
    lists = []
    for _round in range(ROUNDS - 1):
        start = chooser.randrange(0, len(NAMES) - 60)
        names = NAMES[start:start + chooser.randrange(20, 60)]
        chooser.shuffle(names)
        lists.append(names)
    return lists + [lists[0]]


def run_bulk_tasks(path, worker, start_gate, answers):
    start_gate.wait()
    for names in lists_of(worker):
        # A fresh backend per task, as each task has.
        outcome = load_backend({'store': path, 'lock_timeout': 120}).bulk_allocate(
            'big', requests_from_items(names, AddressRequest))
        answers.put([(name, result.after['address']) for name, result in outcome.outcomes.items()])


@pytest.mark.parametrize('extension', ['yml', 'json', 'sqlite'])
def test_overlapping_bulk_tasks_from_many_processes(tmp_path, extension):
    path = str(tmp_path / ('store.' + extension))
    load_backend({'store': path}).ensure_pool({'name': 'big', 'cidr': '10.0.0.0/22'})
    start_gate = CONTEXT.Event()
    answers = CONTEXT.Queue()
    workers = [CONTEXT.Process(target=run_bulk_tasks, args=(path, worker, start_gate, answers)) for worker in range(PROCESSES)]
    for process in workers:
        process.start()
    start_gate.set()
    answered = [answers.get(timeout=300) for _task in range(PROCESSES * ROUNDS)]
    for process in workers:
        process.join(300)
        assert process.exitcode == 0

    allocations = load_backend({'store': path}).allocations(pool='big')
    held = {view['name']: view['address'] for view in allocations}
    asked = {name for worker in range(PROCESSES) for names in lists_of(worker) for name in names}
    # Every name asked for holds exactly one address, and no address is held twice.
    assert len(allocations) == len(held) == len(asked)
    assert set(held) == asked
    assert len(set(held.values())) == len(held)
    # Every task told its caller the address the store holds for each of its names.
    for answer in answered:
        assert all(held[name] == address for name, address in answer)
    # Lowest first, nothing released: exactly the first len(asked) addresses of the pool.
    assert sorted(held.values(), key=lambda text: tuple(map(int, text.split('.')))) == [
        '10.0.%d.%d' % divmod(number, 256) for number in range(1, len(asked) + 1)]
