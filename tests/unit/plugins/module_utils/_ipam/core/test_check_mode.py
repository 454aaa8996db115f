# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Check mode on the file backend: a chain of tasks, each a fresh backend given the run's earlier predictions.

The model is the real run: the same sequence of operations applied to a copy of
the store must give, step for step, the answers check mode predicted.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.ipam.allocator.plugins.module_utils._ipam.registry import load_backend
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.core.errors import (
    ConflictError,
    InvalidInputError,
    OutOfPoolError,
    PoolExhaustedError,
    PoolInUseError,
    PoolNotFoundError,
)


class CheckRun:
    """Tasks of one check-mode run: each opens its own backend, replays what came before, passes its own on."""

    def __init__(self, store, **options):
        self.options = dict(options, store=store)
        self.pending = []

    def __call__(self, method, *args, **kwargs):
        backend = load_backend(self.options)
        backend.pending = list(self.pending)
        if method in ('pools', 'allocations', 'prefixes', 'peek', 'peek_prefix'):
            return getattr(backend, method)(*args, **kwargs)
        outcome = getattr(backend, method)(*args, check_mode=True, **kwargs)
        self.pending.extend(backend.predicted)
        return outcome


def real(store, method, *args, **kwargs):
    return getattr(load_backend({'store': store}), method)(*args, **kwargs)


def test_a_new_sqlite_store_predicts_a_chain_and_is_never_created(tmp_path):
    store = str(tmp_path / 'store.sqlite')
    run = CheckRun(store)
    assert run('ensure_pool', {'name': 'lab', 'cidr': '10.0.0.0/24', 'gateway': '10.0.0.1'}).changed
    assert run('allocate', 'lab', 'web01').after['address'] == '10.0.0.2'
    assert run('allocate', 'lab', 'web02').after['address'] == '10.0.0.3'
    assert not os.path.exists(store)


def test_replay_on_sqlite_never_writes_even_while_another_writer_holds_it(tmp_path):
    store = str(tmp_path / 'store.sqlite')
    real(store, 'ensure_pool', {'name': 'lab', 'cidr': '10.0.0.0/24'})
    run = CheckRun(store, lock_timeout=0.2)
    run('allocate', 'lab', 'web01')
    writer = sqlite3.connect(store, isolation_level=None)
    writer.execute('BEGIN IMMEDIATE')     # another process in the middle of a write
    try:
        assert run('allocate', 'lab', 'web02').after['address'] == '10.0.0.2'
        assert run('ensure_pool', {'name': 'other', 'cidr': '10.1.0.0/24'}).changed
        assert run('allocate', 'other', 'db01').after['address'] == '10.1.0.1'
    finally:
        writer.execute('ROLLBACK')
        writer.close()
    assert [view['name'] for view in real(store, 'pools')] == ['lab']
    assert real(store, 'allocations') == []


def test_every_reader_sees_the_predictions(store_path):
    run = CheckRun(store_path)
    run('ensure_pool', {'name': 'fresh', 'cidr': '10.9.0.0/28'})
    assert [view['address'] for view in run('peek', 'fresh', 2)] == ['10.9.0.1', '10.9.0.2']
    assert run('allocate', 'fresh', 'a').after['address'] == '10.9.0.1'
    assert [view['address'] for view in run('peek', 'fresh')] == ['10.9.0.2']
    assert [(view['name'], view['address']) for view in run('allocations', pool='fresh')] == [('a', '10.9.0.1')]
    assert run('pools', 'fresh')[0]['used'] == 1
    run('ensure_pool', {'name': 'sites', 'cidr': '10.128.0.0/16', 'default_prefix_length': 24})
    assert run('allocate_prefix', 'sites', 'berlin').after['prefix'] == '10.128.0.0/24'
    assert [view['prefix'] for view in run('peek_prefix', 'sites')] == ['10.128.1.0/24']
    assert [view['name'] for view in run('prefixes', pool='sites')] == ['berlin']
    run('release', 'fresh', name='a')
    assert run('allocations', pool='fresh') == []
    run('remove_pool', 'fresh')
    assert run('pools', 'fresh') == []
    with pytest.raises(PoolNotFoundError):
        run('peek', 'fresh')
    assert not os.path.exists(store_path)


def test_a_prediction_whose_place_was_taken_meanwhile_is_not_replayed(store_path):
    real(store_path, 'ensure_pool', {'name': 'lab', 'cidr': '10.0.0.0/29'})
    run = CheckRun(store_path)
    assert run('allocate', 'lab', 'web01').after['address'] == '10.0.0.1'
    real(store_path, 'allocate', 'lab', 'other')      # another controller takes 10.0.0.1 for real
    assert run('allocate', 'lab', 'web02').after['address'] == '10.0.0.2'
    assert run('allocate', 'lab', 'web01').after['address'] == '10.0.0.3'


def test_predictions_of_another_store_are_ignored(tmp_path):
    first, second = str(tmp_path / 'a.yml'), str(tmp_path / 'b.yml')
    for store in (first, second):
        real(store, 'ensure_pool', {'name': 'lab', 'cidr': '10.0.0.0/24'})
    run = CheckRun(first)
    run('allocate', 'lab', 'web01')
    other = CheckRun(second)
    other.pending = run.pending
    assert other('allocate', 'lab', 'web02').after['address'] == '10.0.0.1'


def test_an_address_released_in_check_mode_is_free_for_the_next_prediction(store_path):
    real(store_path, 'ensure_pool', {'name': 'lab', 'cidr': '10.0.0.0/28'})
    real(store_path, 'allocate', 'lab', 'old')
    run = CheckRun(store_path)
    run('release', 'lab', name='old')
    assert run('allocate', 'lab', 'new').after['address'] == '10.0.0.1'
    assert [view['address'] for view in run('peek', 'lab')] == ['10.0.0.2']


def test_a_changed_gateway_and_reserved_entries_are_replayed(store_path):
    real(store_path, 'ensure_pool', {'name': 'lab', 'cidr': '10.0.0.0/28', 'gateway': '10.0.0.1', 'reserved': ['10.0.0.2']})
    run = CheckRun(store_path)
    run('ensure_pool', {'name': 'lab', 'cidr': '10.0.0.0/28', 'gateway': '10.0.0.3', 'reserved': ['10.0.0.1-10.0.0.2']})
    assert run('allocate', 'lab', 'web01').after['address'] == '10.0.0.4'
    run('ensure_pool', {'name': 'lab', 'cidr': '10.0.0.0/28', 'gateway': '10.0.0.14', 'reserved': []})
    assert run('allocate', 'lab', 'web02').after['address'] == '10.0.0.1'


OPERATIONS = st.lists(st.tuples(
    st.sampled_from(['allocate', 'specific', 'release', 'release_address', 'pool', 'gateway', 'prefix', 'release_prefix',
                     'drop']),
    st.integers(0, 5), st.integers(0, 15)), max_size=25)
EXPECTED = (ConflictError, InvalidInputError, OutOfPoolError, PoolExhaustedError, PoolInUseError, PoolNotFoundError)


def _step(call, operation, index, offset):
    name = 'n%d' % index
    if operation == 'allocate':
        return call('allocate', 'lab', name)
    if operation == 'specific':
        return call('allocate', 'lab', name, address='10.0.0.%d' % offset)
    if operation == 'release':
        return call('release', 'lab', name=name)
    if operation == 'release_address':
        return call('release', 'lab', address='10.0.0.%d' % offset)
    if operation == 'pool':
        return call('ensure_pool', {'name': 'lab', 'cidr': '10.0.0.0/27', 'reserved': ['10.0.0.%d' % (offset + 16)]})
    if operation == 'gateway':
        return call('ensure_pool', {'name': 'lab', 'cidr': '10.0.0.0/27', 'gateway': '10.0.0.%d' % (offset + 1)})
    if operation == 'prefix':
        return call('allocate_prefix', 'lab', 'p%d' % index, prefix_length=30)
    if operation == 'release_prefix':
        return call('release_prefix', 'lab', name='p%d' % index)
    return call('remove_pool', 'lab', force=True)


def _answer(call, *args):
    try:
        outcome = _step(call, *args)
    except EXPECTED as exc:
        return type(exc).__name__
    return outcome.changed, outcome.before, outcome.after


@settings(max_examples=100, deadline=None)
@given(OPERATIONS, st.sampled_from(['yml', 'json', 'sqlite']))
def test_check_mode_predicts_what_the_real_run_does(steps, extension):
    with tempfile.TemporaryDirectory() as directory:
        store = os.path.join(directory, 'store.' + extension)
        real(store, 'ensure_pool', {'name': 'lab', 'cidr': '10.0.0.0/27'})
        for name in ('n0', 'n1', 'n2'):
            real(store, 'allocate', 'lab', name)
        copy = os.path.join(directory, 'copy.' + extension)
        shutil.copyfile(store, copy)
        before = open(store, 'rb').read()
        run = CheckRun(store)
        for step in steps:
            predicted = _answer(run, *step)
            actual = _answer(lambda method, *args, **kwargs: real(copy, method, *args, **kwargs), *step)
            assert predicted == actual, step
        assert open(store, 'rb').read() == before
        assert sorted((view['name'], view['address']) for view in run('allocations')) == \
            sorted((view['name'], view['address']) for view in real(copy, 'allocations'))
