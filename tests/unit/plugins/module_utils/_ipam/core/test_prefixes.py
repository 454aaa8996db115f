# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Child prefix allocation: best fit, bounds, conflicts, pools made from prefixes, no overlap ever."""

from __future__ import annotations

import ipaddress
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
)


def supernet(backend, **params):
    params.setdefault('name', 'sites')
    params.setdefault('cidr', '10.128.0.0/16')
    return backend.ensure_pool(params).after


def test_lowest_first_and_idempotent(backend):
    supernet(backend, default_prefix_length=26)
    first = backend.allocate_prefix('sites', 'berlin')
    assert first.changed and first.after['prefix'] == '10.128.0.0/26'
    assert first.after['gateway'] == '10.128.0.1' and first.after['network'] == '10.128.0.0'
    assert not backend.allocate_prefix('sites', 'berlin').changed
    assert not backend.allocate_prefix('sites', 'berlin', prefix_length=26).changed
    assert backend.allocate_prefix('sites', 'paris').after['prefix'] == '10.128.0.64/26'


def test_best_fit_fills_the_smallest_hole_first(backend):
    supernet(backend, cidr='10.0.0.0/24')
    backend.allocate_prefix('sites', 'a', prefix_length=26)            # 10.0.0.0/26
    backend.allocate_prefix('sites', 'b', prefix_length=25)            # 10.0.0.128/25
    backend.allocate_prefix('sites', 'c', prefix_length=28)            # 10.0.0.64/28 (in the /26 hole)
    assert backend.prefixes(name='c')[0]['prefix'] == '10.0.0.64/28'
    # Free now: 10.0.0.80/28, 10.0.0.96/27. A /28 goes into the /28 hole, not into the /27.
    assert backend.allocate_prefix('sites', 'd', prefix_length=28).after['prefix'] == '10.0.0.80/28'
    assert backend.allocate_prefix('sites', 'e', prefix_length=27).after['prefix'] == '10.0.0.96/27'
    with pytest.raises(PoolExhaustedError, match='exhausted'):
        backend.allocate_prefix('sites', 'f', prefix_length=30)


def test_bounds(backend):
    supernet(backend, min_prefix_length=20, max_prefix_length=28)
    with pytest.raises(OutOfPoolError, match='/29 is outside what pool .* allows \\(/20 to /28\\)'):
        backend.allocate_prefix('sites', 'x', prefix_length=29)
    with pytest.raises(OutOfPoolError, match='/16 is outside'):
        backend.allocate_prefix('sites', 'x', prefix_length=16)
    with pytest.raises(InvalidInputError, match='no default_prefix_length'):
        backend.allocate_prefix('sites', 'x')


def test_specific_prefix_and_overlap(backend):
    supernet(backend)
    assert backend.allocate_prefix('sites', 'lab', prefix='10.128.200.0/24').after['prefix'] == '10.128.200.0/24'
    with pytest.raises(ConflictError, match="overlaps 'lab'"):
        backend.allocate_prefix('sites', 'other', prefix='10.128.200.128/25')
    with pytest.raises(OutOfPoolError, match='outside pool'):
        backend.allocate_prefix('sites', 'other', prefix='10.129.0.0/24')
    with pytest.raises(InvalidInputError, match='host bits'):
        backend.allocate_prefix('sites', 'other', prefix='10.128.1.1/24')
    with pytest.raises(ConflictError, match="'lab' already holds 10.128.200.0/24"):
        backend.allocate_prefix('sites', 'lab', prefix_length=23)


def test_big_ipv6_supernet_is_as_cheap_as_a_small_one(backend):
    supernet(backend, name='v6', cidr='2001:db8::/32')
    assert backend.allocate_prefix('v6', 'a', prefix_length=64).after['prefix'] == '2001:db8::/64'
    assert backend.allocate_prefix('v6', 'b', prefix_length=48).after['prefix'] == '2001:db8:1::/48'
    assert backend.allocate_prefix('v6', 'c', prefix_length=64).after['prefix'] == '2001:db8:0:1::/64'
    assert [view['prefix'] for view in backend.peek_prefix('v6', 64, count=2)] == ['2001:db8:0:2::/64', '2001:db8:0:3::/64']


def test_prefix_becomes_a_pool_and_guards_its_release(backend):
    supernet(backend, default_prefix_length=26)
    subnet = backend.allocate_prefix('sites', 'berlin').after
    with pytest.raises(InvalidInputError, match='not a prefix allocated'):
        backend.ensure_pool({'name': 'bogus', 'cidr': '10.128.1.0/26', 'parent': 'sites'})
    backend.ensure_pool({'name': 'berlin', 'cidr': subnet['prefix'], 'parent': 'sites', 'gateway': subnet['gateway']})
    assert backend.allocate('berlin', 'h1').after['address'] == '10.128.0.2'
    with pytest.raises(PoolInUseError, match="is pool 'berlin', which still holds allocations"):
        backend.release_prefix('sites', 'berlin')
    with pytest.raises(PoolInUseError, match='parent of'):
        backend.remove_pool('sites', force=True)
    released = backend.release_prefix('sites', 'berlin', force=True)
    assert released.changed and released.before['prefix'] == '10.128.0.0/26'
    assert [view['name'] for view in backend.pools()] == ['sites']


def test_address_and_prefix_allocations_share_one_space(backend):
    supernet(backend, cidr='10.0.0.0/28')
    backend.allocate('sites', 'host')                                        # 10.0.0.1
    assert backend.allocate_prefix('sites', 'net', prefix_length=30).after['prefix'] == '10.0.0.4/30'
    with pytest.raises(ConflictError, match="overlaps 'host'"):
        backend.allocate_prefix('sites', 'net2', prefix='10.0.0.0/30')
    assert backend.allocate('sites', 'host2').after['address'] == '10.0.0.2'
    assert backend.pools('sites')[0]['used'] == 2 + 4


def test_check_mode_chain_predicts_a_pool_made_from_a_new_prefix(store_path):
    backend = load_backend({'store': store_path})
    supernet(backend, default_prefix_length=26)
    before = open(store_path, 'rb').read()
    predicted = backend.allocate_prefix('sites', 'berlin', check_mode=True)
    pool = backend.ensure_pool({'name': 'berlin', 'cidr': predicted.after['prefix'], 'parent': 'sites'}, check_mode=True)
    address = backend.allocate('berlin', 'h1', check_mode=True)
    assert pool.changed and address.after['address'] == '10.128.0.1'
    assert open(store_path, 'rb').read() == before
    assert [[sorted(change) for change in step['changes']] for step in backend.predicted] == [
        [['after', 'kind', 'name', 'pool']], [['pool', 'settings']], [['after', 'kind', 'name', 'pool']]]
    # A fresh backend given those predictions replays them, as the next check-mode task does.
    later = load_backend({'store': store_path})
    later.pending = backend.predicted
    assert later.allocate('berlin', 'h2', check_mode=True).after['address'] == '10.128.0.2'
    assert open(store_path, 'rb').read() == before


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(['allocate', 'release', 'specific']), st.integers(0, 15), st.integers(24, 30),
                          st.integers(0, 255)), max_size=30), st.sampled_from(['yml', 'sqlite']))
def test_allocated_prefixes_never_overlap(steps, extension):
    with tempfile.TemporaryDirectory() as directory:
        backend = load_backend({'store': '%s/store.%s' % (directory, extension)})
        backend.ensure_pool({'name': 'p', 'cidr': '10.0.0.0/22'})
        for action, name_index, length, offset in steps:
            name = 'n%d' % name_index
            try:
                if action == 'release':
                    backend.release_prefix('p', name)
                elif action == 'specific':
                    network = ipaddress.ip_network('10.0.0.0/22')
                    start = int(network.network_address) + (offset << (32 - length)) % network.num_addresses
                    backend.allocate_prefix('p', name, prefix='%s/%d' % (ipaddress.ip_address(start), length))
                else:
                    backend.allocate_prefix('p', name, prefix_length=length)
            except (ConflictError, PoolExhaustedError, OutOfPoolError):
                pass
            held = [ipaddress.ip_network(view['prefix']) for view in load_backend(
                {'store': '%s/store.%s' % (directory, extension)}).prefixes(pool='p')]
            for index, network in enumerate(held):
                assert network.subnet_of(ipaddress.ip_network('10.0.0.0/22'))
                assert not any(network.overlaps(other) for other in held[index + 1:])
