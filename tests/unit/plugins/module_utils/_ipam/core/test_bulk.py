# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Many names in one call: the requests, the file backend's all-or-nothing plan, check mode, the default of the ABC.

The property test compares the file backend with a model written the obvious way
(addresses enumerated, the documented order applied by hand).
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import tempfile

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.ipam.allocator.plugins.module_utils._ipam.backend import Backend
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.registry import load_backend
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.filestore.backend_file import FileBackend
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.core.bulk import (
    AddressRequest,
    PrefixRequest,
    planning_order,
    requests_from_items,
)
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.core.errors import (
    ConflictError,
    InvalidInputError,
    IpamError,
    OutOfPoolError,
    PoolExhaustedError,
    PoolNotFoundError,
)
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.runners import run, run_ip_address, run_ip_prefix


def addresses(items, **defaults):
    return requests_from_items(items, AddressRequest, defaults=defaults)


def store_bytes(path):
    """The store's files as they are on disk (an SQLite store may have a journal beside it)."""
    found = {}
    for suffix in ('', '-journal'):
        if os.path.exists(path + suffix):
            with open(path + suffix, 'rb') as handle:
                found[suffix] = handle.read()
    return found


# -- the requests --------------------------------------------------------------

def test_items_are_names_or_mappings_with_defaults_an_item_overrides():
    requests = addresses(['a', {'name': 'b', 'description': 'own', 'address': '10.0.0.9'}], description='all')
    assert [(request.name, request.position, request.description, request.address) for request in requests] == [
        ('a', 0, 'all', None), ('b', 1, 'own', '10.0.0.9')]
    assert [request.name for request in planning_order(requests)] == ['b', 'a']


@pytest.mark.parametrize('items, message', [
    ([], 'empty list'),
    ('web01', 'must be a list'),
    (['a', 'b', 'a'], "names[2] 'a' is listed twice (also names[0])"),
    (['a', 5], 'names[1] must be a name or a mapping with "name", got 5'),
    (['a', {'name': 5}], 'names[1]: Invalid name: expected a string'),
    (['a', ['b']], 'names[1] must be a name or a mapping'),
    (['a', {'address': '10.0.0.1'}], 'names[1] has no "name"'),
    (['a', {'name': 'b', 'adress': '10.0.0.1'}], "names[1] 'b': unknown key(s) 'adress'"),
    (['a', {'name': 'b', 'address': 5}], "names[1] 'b': address must be a string"),
    (['a', ' b'], 'names[1]: Invalid name'),
])
def test_bad_lists_are_refused_naming_the_item(items, message):
    with pytest.raises(InvalidInputError) as caught:
        addresses(items)
    assert message in str(caught.value)


def test_a_release_item_may_only_name_its_address():
    with pytest.raises(InvalidInputError, match="names.0. 'a': unknown key.s. 'description'"):
        requests_from_items([{'name': 'a', 'description': 'x'}], AddressRequest, release=True)
    assert requests_from_items(['a'], AddressRequest, release=True, defaults={'description': 'x'})[0].description is None


def test_prefix_items_take_a_prefix_length_as_text_too():
    requests = requests_from_items([{'name': 'a', 'prefix_length': '26'}, 'b'], PrefixRequest, defaults={'prefix_length': 24})
    assert [request.prefix_length for request in requests] == [26, 24]
    with pytest.raises(InvalidInputError, match="names.0. 'a': prefix_length 'x' must be an integer"):
        requests_from_items([{'name': 'a', 'prefix_length': 'x'}], PrefixRequest)


# -- the file backend: one plan, all or nothing ------------------------------------

@pytest.fixture
def lab(store_path):
    load_backend({'store': store_path}).ensure_pool({'name': 'lab', 'cidr': '10.0.0.0/28', 'gateway': '10.0.0.1'})
    return store_path


def bulk(store, method, *args, **kwargs):
    return getattr(load_backend({'store': store}), method)(*args, **kwargs)


def test_placed_items_first_then_new_names_lowest_first_in_list_order(lab):
    bulk(lab, 'allocate', 'lab', 'old', address='10.0.0.5')
    outcome = bulk(lab, 'bulk_allocate', 'lab', addresses(['c', 'old', {'name': 'pin', 'address': '10.0.0.2'}, 'a', 'b']))
    assert {name: result.after['address'] for name, result in outcome.outcomes.items()} == {
        'c': '10.0.0.3', 'old': '10.0.0.5', 'pin': '10.0.0.2', 'a': '10.0.0.4', 'b': '10.0.0.6'}
    assert list(outcome.outcomes) == ['c', 'old', 'pin', 'a', 'b']
    assert [name for name, result in outcome.outcomes.items() if result.changed] == ['c', 'pin', 'a', 'b']
    assert outcome.diff['before'] == {} and list(outcome.diff['after']) == ['c', 'pin', 'a', 'b']


def test_one_lock_and_one_write_for_the_whole_list(lab, monkeypatch):
    backend = load_backend({'store': lab})
    store_class = type(backend.store)
    counts = {'locks': 0, 'commits': 0}
    writing, lock = store_class.writing, store_class.lock

    def counted_writing(store, *args, **kwargs):
        counts['commits'] += 1      # one transaction is one write (a document store writes on commit, SQLite commits)
        return writing(store, *args, **kwargs)

    def counted_lock(store):
        counts['locks'] += 1
        return lock(store)
    monkeypatch.setattr(store_class, 'writing', counted_writing)
    monkeypatch.setattr(store_class, 'lock', counted_lock)
    outcome = backend.bulk_allocate('lab', addresses(['n%d' % index for index in range(12)]))
    assert len(outcome.outcomes) == 12 and counts['commits'] == 1
    assert counts['locks'] == 1
    counts.update(locks=0, commits=0)
    assert not load_backend({'store': lab}).bulk_allocate('lab', addresses(['n%d' % index for index in range(12)])).changed
    assert counts == {'locks': 0, 'commits': 0}     # a rerun takes no lock at all


def test_a_new_name_takes_the_address_another_item_moves_away_from(lab):
    bulk(lab, 'allocate', 'lab', 'mover')
    items = ['new', {'name': 'mover', 'address': '10.0.0.9'}]
    backend = load_backend({'store': lab})
    predicted = backend.bulk_allocate('lab', addresses(items), check_mode=True)
    later = load_backend({'store': lab})
    later.pending = list(backend.predicted)
    assert {view['name']: view['address'] for view in later.allocations(pool='lab')} == {'new': '10.0.0.2', 'mover': '10.0.0.9'}
    outcome = bulk(lab, 'bulk_allocate', 'lab', addresses(items))
    assert {name: result.after['address'] for name, result in outcome.outcomes.items()} == {
        name: result.after['address'] for name, result in predicted.outcomes.items()} == {'new': '10.0.0.2', 'mover': '10.0.0.9'}
    assert {view['name']: view['address'] for view in bulk(lab, 'allocations', pool='lab')} == {'new': '10.0.0.2', 'mover': '10.0.0.9'}


def test_a_rerun_changes_nothing_and_one_more_name_changes_only_it(lab):
    names = ['a', 'b', 'c']
    first = bulk(lab, 'bulk_allocate', 'lab', addresses(names))
    before = store_bytes(lab)
    again = bulk(lab, 'bulk_allocate', 'lab', addresses(names))
    assert not again.changed and store_bytes(lab) == before
    assert {name: result.after for name, result in again.outcomes.items()} == {
        name: result.after for name, result in first.outcomes.items()}
    more = bulk(lab, 'bulk_allocate', 'lab', addresses(names + ['d']))
    assert [name for name, result in more.outcomes.items() if result.changed] == ['d']


def test_a_task_option_updates_every_name_that_holds_another_value(lab):
    bulk(lab, 'bulk_allocate', 'lab', addresses(['a', 'b']))
    outcome = bulk(lab, 'bulk_allocate', 'lab', addresses(['a', {'name': 'b', 'description': 'own'}], description='all'))
    assert {name: result.after['description'] for name, result in outcome.outcomes.items()} == {'a': 'all', 'b': 'own'}
    assert [view['description'] for view in bulk(lab, 'allocations', pool='lab')] == ['all', 'own']


@pytest.mark.parametrize('items, error, message', [
    (['n%d' % index for index in range(14)], PoolExhaustedError, "free); names[13] 'n13' would get none"),
    (['n0', {'name': 'n1', 'address': '10.0.0.1'}], OutOfPoolError, "names[1] 'n1'"),
    (['n0', {'name': 'n1', 'address': '10.0.0.2'}, {'name': 'n2', 'address': '10.0.0.2'}], ConflictError,
     "names[2] 'n2': Cannot allocate 10.0.0.2 to 'n2' in pool 'lab': it is already held by 'n1'"),
    (['n0', {'name': 'n1', 'dns_name': 'bad name'}], InvalidInputError, "names[1] 'n1': Invalid dns_name"),
    (['n0', {'name': 'n1', 'mac': '52:54:00:12:34:56'}], InvalidInputError, "names[1] 'n1'"),
])
def test_an_item_that_cannot_be_served_fails_the_whole_list_and_writes_nothing(lab, items, error, message):
    before = store_bytes(lab)
    with pytest.raises(error) as caught:
        bulk(lab, 'bulk_allocate', 'lab', addresses(items))
    assert message in str(caught.value)
    assert store_bytes(lab) == before
    with pytest.raises(error):
        bulk(lab, 'bulk_allocate', 'lab', addresses(items), check_mode=True)


def test_an_unknown_pool_is_the_usual_error(lab):
    with pytest.raises(PoolNotFoundError, match="Pool 'nope' does not exist"):
        bulk(lab, 'bulk_allocate', 'nope', addresses(['a']))


def test_release_many_by_name_with_an_expected_address(lab):
    held = bulk(lab, 'bulk_allocate', 'lab', addresses(['a', 'b', 'c'])).outcomes
    wrong = requests_from_items(['a', {'name': 'b', 'address': held['c'].after['address']}], AddressRequest, release=True)
    with pytest.raises(ConflictError, match="names.1. 'b': 'b' holds 10.0.0.3"):
        bulk(lab, 'bulk_release', 'lab', wrong)
    assert len(bulk(lab, 'allocations', pool='lab')) == 3
    released = bulk(lab, 'bulk_release', 'lab', requests_from_items(['a', 'ghost', 'c'], AddressRequest, release=True))
    assert {name: (result.changed, result.before.get('address')) for name, result in released.outcomes.items()} == {
        'a': (True, '10.0.0.2'), 'ghost': (False, None), 'c': (True, '10.0.0.4')}
    assert [view['name'] for view in bulk(lab, 'allocations', pool='lab')] == ['b']


def test_prefixes_placed_first_then_best_fit_in_list_order(store_path):
    bulk(store_path, 'ensure_pool', {'name': 'sites', 'cidr': '10.128.0.0/22', 'default_prefix_length': 24})
    outcome = bulk(store_path, 'bulk_allocate_prefix', 'sites', requests_from_items(
        ['x', {'name': 'y', 'prefix_length': 26}, {'name': 'z', 'prefix': '10.128.0.0/24'}], PrefixRequest))
    assert {name: result.after['prefix'] for name, result in outcome.outcomes.items()} == {
        'x': '10.128.1.0/24', 'y': '10.128.2.0/26', 'z': '10.128.0.0/24'}
    with pytest.raises(PoolExhaustedError, match="names.1. 'w'"):
        bulk(store_path, 'bulk_allocate_prefix', 'sites', requests_from_items(['v', 'w'], PrefixRequest))
    assert len(bulk(store_path, 'prefixes', pool='sites')) == 3
    released = bulk(store_path, 'bulk_release_prefix', 'sites', requests_from_items(['x', 'y'], PrefixRequest, release=True))
    assert released.changed and [view['name'] for view in bulk(store_path, 'prefixes', pool='sites')] == ['z']


def test_releasing_prefixes_drops_the_pools_made_from_them_only_with_force(store_path):
    bulk(store_path, 'ensure_pool', {'name': 'sites', 'cidr': '10.128.0.0/22', 'default_prefix_length': 24})
    made = bulk(store_path, 'bulk_allocate_prefix', 'sites', requests_from_items(['x', 'y'], PrefixRequest)).outcomes
    bulk(store_path, 'ensure_pool', {'name': 'x-pool', 'cidr': made['x'].after['prefix'], 'parent': 'sites'})
    bulk(store_path, 'allocate', 'x-pool', 'host')
    requests = requests_from_items(['y', 'x'], PrefixRequest, release=True)
    with pytest.raises(IpamError, match="names.1. 'x'.*still holds allocations"):
        bulk(store_path, 'bulk_release_prefix', 'sites', requests)
    assert len(bulk(store_path, 'prefixes', pool='sites')) == 2
    assert bulk(store_path, 'bulk_release_prefix', 'sites', requests, force=True).changed
    assert [view['name'] for view in bulk(store_path, 'pools')] == ['sites']


# -- check mode: the whole list, exactly, and passed on ------------------------------

def test_check_mode_predicts_the_whole_list_and_passes_it_on(lab):
    items = ['a', {'name': 'b', 'address': '10.0.0.9'}, 'c']
    before = store_bytes(lab)
    backend = load_backend({'store': lab})
    predicted = backend.bulk_allocate('lab', addresses(items), check_mode=True)
    assert store_bytes(lab) == before and bulk(lab, 'allocations') == []
    later = load_backend({'store': lab})
    later.pending = list(backend.predicted)
    assert later.allocate('lab', 'd', check_mode=True).after['address'] == '10.0.0.4'
    assert {view['name'] for view in later.allocations(pool='lab')} == {'a', 'b', 'c', 'd'}
    real = bulk(lab, 'bulk_allocate', 'lab', addresses(items))
    assert {name: result.after for name, result in real.outcomes.items()} == {
        name: result.after for name, result in predicted.outcomes.items()}


def test_the_runner_returns_allocations_keyed_by_name_and_leaves_the_diff_out_unless_asked(lab):
    params = {'store': lab, 'backend': 'file', 'pool': 'lab', 'names': ['a', 'b'], 'state': 'present',
              'description': None, 'dns_name': None}
    result, predicted = run(run_ip_address, params, check_mode=True, diff=False)
    assert 'diff' not in result and result['changed'] and len(predicted) == 1
    assert result['allocations']['a'] == {'address': '10.0.0.2', 'cidr': '10.0.0.2/28', 'prefix_length': 28,
                                          'gateway': '10.0.0.1', 'pool': 'lab', 'name': 'a', 'description': None,
                                          'dns_name': None, 'changed': True}
    result, predicted = run(run_ip_address, params, check_mode=False)
    assert list(result['diff']['after']) == ['a', 'b'] and predicted == []
    released, _predicted = run(run_ip_address, dict(params, names=['a', 'ghost'], state='absent'), check_mode=False)
    assert released['allocations']['ghost'] == {'address': None, 'cidr': None, 'prefix_length': None, 'gateway': None,
                                                'pool': 'lab', 'name': 'ghost', 'description': None, 'dns_name': None,
                                                'changed': False}


def test_the_prefix_runner_applies_the_task_prefix_length(store_path):
    bulk(store_path, 'ensure_pool', {'name': 'sites', 'cidr': '10.128.0.0/16'})
    params = {'store': store_path, 'backend': 'file', 'pool': 'sites', 'names': ['a', {'name': 'b', 'prefix_length': 24}],
              'state': 'present', 'prefix_length': 26, 'description': None, 'force': False}
    result, _predicted = run(run_ip_prefix, params, check_mode=False)
    assert {name: entry['prefix_length'] for name, entry in result['allocations'].items()} == {'a': 26, 'b': 24}


# -- the ABC's default: one name at a time --------------------------------------------

class OneByOne(FileBackend):
    """A backend with only the single-name methods, as a third-party one may be."""

    bulk_allocate = Backend.bulk_allocate
    bulk_release = Backend.bulk_release
    bulk_allocate_prefix = Backend.bulk_allocate_prefix
    bulk_release_prefix = Backend.bulk_release_prefix


def test_the_default_serves_the_list_in_the_same_order_as_the_file_backend(tmp_path):
    results = []
    for backend_class in (FileBackend, OneByOne):
        store = str(tmp_path / ('%s.yml' % backend_class.__name__))
        load_backend({'store': store}).ensure_pool({'name': 'lab', 'cidr': '10.0.0.0/28'})
        backend_class({'store': store}).allocate('lab', 'old')
        outcome = backend_class({'store': store}).bulk_allocate('lab', addresses(['c', 'old', {'name': 'pin', 'address': '10.0.0.2'}, 'a']))
        results.append({name: result.after['address'] for name, result in outcome.outcomes.items()})
    assert results[0] == results[1]


def test_the_default_predicts_the_list_in_check_mode(tmp_path):
    store = str(tmp_path / 'store.yml')
    load_backend({'store': store}).ensure_pool({'name': 'lab', 'cidr': '10.0.0.0/28'})
    outcome = OneByOne({'store': store}).bulk_allocate('lab', addresses(['a', 'b']), check_mode=True)
    assert [result.after['address'] for result in outcome.outcomes.values()] == ['10.0.0.1', '10.0.0.2']
    assert load_backend({'store': store}).allocations() == []


def test_the_default_is_not_atomic_and_says_what_it_did(tmp_path):
    store = str(tmp_path / 'store.yml')
    load_backend({'store': store}).ensure_pool({'name': 'lab', 'cidr': '10.0.0.0/30'})
    with pytest.raises(PoolExhaustedError) as caught:
        OneByOne({'store': store}).bulk_allocate('lab', addresses(['a', 'b', 'c']))
    assert "names[2] 'c'" in str(caught.value) and "2 name(s) before it were allocated: 'a', 'b'" in str(caught.value)


# -- the model: random lists against the documented rule ------------------------------

NETWORK = ipaddress.ip_network('10.0.0.0/28')
HOSTS = list(NETWORK.hosts())
NAMES = ['n%d' % index for index in range(10)]


class Model:
    """A pool as a dict name -> address; a list is served as docs/architecture.md says, or not at all."""

    def __init__(self):
        self.held = {}

    def allocate(self, items):
        held = dict(self.held)
        placed = [item for item in items if 'address' in item]
        for item in placed:
            wanted = ipaddress.ip_address(item['address'])
            if wanted not in HOSTS:
                raise OutOfPoolError(item['name'])
            holder = next((name for name, address in held.items() if address == wanted and name != item['name']), None)
            if holder is not None:
                raise ConflictError(item['name'])
            held[item['name']] = wanted
        new = [item['name'] for item in items if 'address' not in item and item['name'] not in held]
        free = [address for address in HOSTS if address not in held.values()]
        if len(free) < len(new):
            raise PoolExhaustedError(new[len(free)])
        held.update(zip(new, free))
        self.held = held
        return {item['name']: str(held[item['name']]) for item in items}

    def release(self, names):
        released = {name: self.held.pop(name, None) for name in names}
        return {name: None if address is None else str(address) for name, address in released.items()}


item_strategy = st.fixed_dictionaries({'name': st.sampled_from(NAMES)}, optional={
    'address': st.sampled_from([str(address) for address in HOSTS] + ['10.0.0.0', '10.0.0.15', '10.0.1.1'])})
step_strategy = st.tuples(st.sampled_from(['allocate', 'allocate', 'release', 'check']),
                          st.lists(item_strategy, min_size=1, max_size=8, unique_by=lambda item: item['name']))


@settings(max_examples=40, deadline=None)
@given(steps=st.lists(step_strategy, min_size=1, max_size=8), extension=st.sampled_from(['yml', 'json', 'sqlite']))
def test_random_lists_agree_with_the_model(steps, extension):
    directory = tempfile.mkdtemp()
    try:
        store = os.path.join(directory, 'store.' + extension)
        load_backend({'store': store}).ensure_pool({'name': 'lab', 'cidr': str(NETWORK)})
        model = Model()
        for action, items in steps:
            if action == 'release':
                names = [item['name'] for item in items]
                expected = model.release(names)
                outcome = bulk(store, 'bulk_release', 'lab', requests_from_items(names, AddressRequest, release=True))
                assert {name: result.before.get('address') for name, result in outcome.outcomes.items()} == expected
            else:
                before = store_bytes(store)
                shadow = Model()
                shadow.held = dict(model.held)
                try:
                    expected = (shadow if action == 'check' else model).allocate(items)
                except (OutOfPoolError, ConflictError, PoolExhaustedError) as model_error:
                    with pytest.raises(type(model_error)):
                        bulk(store, 'bulk_allocate', 'lab', addresses(items), check_mode=action == 'check')
                    assert store_bytes(store) == before
                    continue
                outcome = bulk(store, 'bulk_allocate', 'lab', addresses(items), check_mode=action == 'check')
                assert {name: result.after['address'] for name, result in outcome.outcomes.items()} == expected
                if action == 'check':
                    assert store_bytes(store) == before
            stored = {view['name']: view['address'] for view in bulk(store, 'allocations', pool='lab')}
            assert stored == {name: str(address) for name, address in model.held.items()}
            assert len(set(stored.values())) == len(stored)
    finally:
        shutil.rmtree(directory)
