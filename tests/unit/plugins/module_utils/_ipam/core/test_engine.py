# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The allocation rules, on every store format (the ``backend`` fixture)."""

from __future__ import annotations

import pytest

from ansible_collections.ipam.allocator.plugins.module_utils._ipam.core.errors import (
    ConflictError,
    InvalidInputError,
    OutOfPoolError,
    PoolExhaustedError,
    PoolInUseError,
    PoolNotFoundError,
)


def pool(backend, **params):
    params.setdefault('name', 'lab')
    return backend.ensure_pool(params).after


def addresses(backend, pool_name, names):
    return [backend.allocate(pool_name, name).after['address'] for name in names]


def test_lowest_free_skips_network_gateway_and_reserved(backend):
    pool(backend, cidr='10.0.0.0/24', gateway='10.0.0.1', reserved=['10.0.0.2', '10.0.0.4-10.0.0.5'])
    assert addresses(backend, 'lab', ['a', 'b', 'c']) == ['10.0.0.3', '10.0.0.6', '10.0.0.7']


def test_rerun_returns_same_address_unchanged(backend):
    pool(backend, cidr='10.0.0.0/24')
    first = backend.allocate('lab', 'web01')
    again = backend.allocate('lab', 'web01')
    assert first.changed and not again.changed
    assert again.after == first.after
    assert again.before == again.after


def test_ipv4_broadcast_never_allocated(backend):
    pool(backend, cidr='10.0.0.0/30')
    assert addresses(backend, 'lab', ['a', 'b']) == ['10.0.0.1', '10.0.0.2']
    with pytest.raises(PoolExhaustedError, match=r"exhausted \(2 of 2 used\)"):
        backend.allocate('lab', 'c')


@pytest.mark.parametrize('cidr, expected', [
    ('10.0.0.0/31', ['10.0.0.0', '10.0.0.1']),
    ('10.0.0.7/32', ['10.0.0.7']),
    ('2001:db8::/127', ['2001:db8::', '2001:db8::1']),
    ('2001:db8::7/128', ['2001:db8::7']),
])
def test_point_to_point_and_host_networks_use_every_address(backend, cidr, expected):
    pool(backend, cidr=cidr)
    assert addresses(backend, 'lab', ['n%d' % index for index in range(len(expected))]) == expected
    with pytest.raises(PoolExhaustedError, match='exhausted'):
        backend.allocate('lab', 'one-too-many')


def test_ipv6_skips_subnet_router_anycast_only(backend):
    pool(backend, cidr='2001:db8::/126')
    assert addresses(backend, 'lab', ['a', 'b', 'c']) == ['2001:db8::1', '2001:db8::2', '2001:db8::3']


def test_huge_pools_do_not_enumerate(backend):
    pool(backend, cidr='10.0.0.0/8', ranges=['10.255.255.250-10.255.255.254'])
    pool(backend, name='v6', cidr='2001:db8::/64', reserved=['2001:db8::1-2001:db8::ffff'])
    assert addresses(backend, 'lab', ['a']) == ['10.255.255.250']
    assert addresses(backend, 'v6', ['a']) == ['2001:db8::1:0']
    assert backend.pools('v6')[0]['size'] == 2 ** 64 - 1 - 0xffff


def test_ranges_that_touch_behave_as_one(backend):
    pool(backend, cidr='10.0.0.0/24', ranges=['10.0.0.10-10.0.0.11', '10.0.0.12-10.0.0.12'])
    assert addresses(backend, 'lab', ['a', 'b', 'c']) == ['10.0.0.10', '10.0.0.11', '10.0.0.12']
    with pytest.raises(PoolExhaustedError):
        backend.allocate('lab', 'd')


def test_reserved_inside_ranges(backend):
    pool(backend, cidr='10.0.0.0/24', ranges=['10.0.0.10-10.0.0.13'], reserved=['10.0.0.11', '10.0.0.12'])
    assert addresses(backend, 'lab', ['a', 'b']) == ['10.0.0.10', '10.0.0.13']
    assert backend.pools('lab')[0]['size'] == 2


def test_range_including_network_address_is_clipped(backend):
    pool(backend, cidr='10.0.0.0/24', ranges=['10.0.0.0-10.0.0.1'])
    assert addresses(backend, 'lab', ['a']) == ['10.0.0.1']


@pytest.mark.parametrize('params, message', [
    (dict(cidr='10.0.0.0/24', gateway='10.0.1.1'), 'Gateway 10.0.1.1 is outside the pool cidr 10.0.0.0/24'),
    (dict(cidr='10.0.0.0/24', gateway='10.0.0.255'), 'broadcast'),
    (dict(cidr='10.0.0.5/24'), 'host bits set; did you mean 10.0.0.0/24'),
    (dict(cidr='10.0.0.0/33'), "Invalid cidr '10.0.0.0/33'"),
    (dict(cidr='banana'), 'CIDR notation'),
    (dict(cidr='10.0.0.0/24', ranges=['10.0.0.10-10.0.0.20', '10.0.0.20-10.0.0.30']), 'overlap'),
    (dict(cidr='10.0.0.0/24', ranges=['10.0.1.10-10.0.1.20']), 'outside the pool cidr'),
    (dict(cidr='10.0.0.0/24', ranges=['10.0.0.20-10.0.0.10']), 'first address is above its last'),
    (dict(cidr='10.0.0.0/24', reserved=['2001:db8::1']), 'not an IPv4 value'),
    (dict(cidr='10.0.0.0/24', min_prefix_length=28, max_prefix_length=26), 'min_prefix_length 28 is above'),
    (dict(cidr='10.0.0.0/24', default_prefix_length=16), 'between 24 and 32'),
])
def test_bad_pool_definitions_are_refused_and_change_nothing(backend, store_path, params, message):
    pool(backend, name='keep', cidr='192.168.0.0/24')
    before = open(store_path, 'rb').read()
    with pytest.raises(InvalidInputError, match=message.replace('(', r'\(').replace(')', r'\)')):
        pool(backend, **params)
    assert open(store_path, 'rb').read() == before


def test_specific_address(backend):
    pool(backend, cidr='10.0.0.0/24', gateway='10.0.0.1', reserved=['10.0.0.50'], ranges=['10.0.0.10-10.0.0.99'])
    assert backend.allocate('lab', 'router', address='10.0.0.20').after['address'] == '10.0.0.20'
    assert backend.allocate('lab', 'router', address='10.0.0.20/24').changed is False
    with pytest.raises(ConflictError, match="already held by 'router'"):
        backend.allocate('lab', 'other', address='10.0.0.20')
    for address, reason in (('10.0.1.5', 'outside the pool cidr'), ('10.0.0.1', 'the gateway'),
                            ('10.0.0.50', 'reserved'), ('10.0.0.5', 'outside the ranges'),
                            ('10.0.0.0', 'network or broadcast'), ('2001:db8::1', 'not an IPv4 address')):
        with pytest.raises(OutOfPoolError, match=reason):
            backend.allocate('lab', 'x', address=address)
    with pytest.raises(InvalidInputError, match='expected an IPv4 or IPv6 address'):
        backend.allocate('lab', 'x', address='10.0.0.300')
    with pytest.raises(InvalidInputError, match='prefix length'):
        backend.allocate('lab', 'x', address='10.0.0.21/25')


def test_asking_a_name_for_another_address_moves_it(backend):
    pool(backend, cidr='10.0.0.0/24')
    backend.allocate('lab', 'a')
    moved = backend.allocate('lab', 'a', address='10.0.0.9')
    assert moved.changed and moved.before['address'] == '10.0.0.1' and moved.after['address'] == '10.0.0.9'
    assert addresses(backend, 'lab', ['b']) == ['10.0.0.1']


def test_release_and_reuse(backend):
    pool(backend, cidr='10.0.0.0/24')
    addresses(backend, 'lab', ['a', 'b', 'c'])
    released = backend.release('lab', 'b')
    assert released.changed and released.before['address'] == '10.0.0.2' and released.after == {}
    assert not backend.release('lab', 'b').changed
    assert addresses(backend, 'lab', ['d']) == ['10.0.0.2']
    by_address = backend.release('lab', address='10.0.0.3')
    assert by_address.before['name'] == 'c'
    with pytest.raises(ConflictError, match="'a' holds 10.0.0.1"):
        backend.release('lab', 'a', address='10.0.0.9')


def test_description_and_dns_name_update_in_place(backend):
    pool(backend, cidr='10.0.0.0/24')
    backend.allocate('lab', 'a', description='first')
    updated = backend.allocate('lab', 'a', dns_name='a.example.com')
    assert updated.changed and updated.after['description'] == 'first' and updated.after['dns_name'] == 'a.example.com'
    assert not backend.allocate('lab', 'a').changed


def test_check_mode_predicts_and_writes_nothing(backend, store_path):
    pool(backend, cidr='10.0.0.0/24')
    addresses(backend, 'lab', ['a', 'b'])
    backend.release('lab', 'a')
    before = open(store_path, 'rb').read()
    predicted = backend.allocate('lab', 'c', check_mode=True)
    assert open(store_path, 'rb').read() == before
    assert predicted.changed and predicted.after == backend.allocate('lab', 'c').after


def test_peek_reserves_nothing(backend):
    pool(backend, cidr='10.0.0.0/29', gateway='10.0.0.1')
    assert [view['address'] for view in backend.peek('lab', 3)] == ['10.0.0.2', '10.0.0.3', '10.0.0.4']
    assert addresses(backend, 'lab', ['a']) == ['10.0.0.2']
    with pytest.raises(PoolExhaustedError, match='only 4 free'):
        backend.peek('lab', 5)


def test_unknown_pool(backend):
    pool(backend, cidr='10.0.0.0/24')
    with pytest.raises(PoolNotFoundError, match="Pool 'nope' does not exist.*lab"):
        backend.allocate('nope', 'a')


def test_pool_update_refuses_to_strand_allocations(backend):
    pool(backend, cidr='10.0.0.0/24')
    addresses(backend, 'lab', ['a', 'b'])
    with pytest.raises(PoolInUseError, match="address 10.0.0.2 held by 'b'"):
        pool(backend, cidr='10.0.0.0/24', reserved=['10.0.0.2'])
    with pytest.raises(PoolInUseError, match='outside'):
        pool(backend, cidr='10.1.0.0/24')
    with pytest.raises(PoolInUseError, match='ranges'):
        pool(backend, cidr='10.0.0.0/24', ranges=['10.0.0.100-10.0.0.200'])
    changed = backend.ensure_pool({'name': 'lab', 'cidr': '10.0.0.0/24', 'gateway': '10.0.0.254'})
    assert changed.changed and changed.after['used'] == 2 and changed.after['free'] == 251
    assert not backend.ensure_pool({'name': 'lab', 'cidr': '10.0.0.0/24', 'gateway': '10.0.0.254'}).changed


def test_pool_removal_needs_force_when_used(backend):
    pool(backend, cidr='10.0.0.0/24')
    backend.allocate('lab', 'a')
    with pytest.raises(PoolInUseError, match='force'):
        backend.remove_pool('lab')
    assert backend.remove_pool('lab', force=True).changed
    assert backend.pools() == []
    assert not backend.remove_pool('lab').changed


def test_eui64(backend):
    pool(backend, name='v6', cidr='2001:db8:0:1::/64')
    first = backend.allocate('v6', 'h', mac='52:54:00:12:34:56')
    assert first.after['address'] == '2001:db8:0:1:5054:ff:fe12:3456'
    assert not backend.allocate('v6', 'h', mac='52-54-00-12-34-56').changed
    with pytest.raises(ConflictError, match="held by 'h'"):
        backend.allocate('v6', 'other', mac='5254.0012.3456')
    pool(backend, name='v4', cidr='10.0.0.0/24')
    with pytest.raises(InvalidInputError, match='needs an IPv6 /64 pool'):
        backend.allocate('v4', 'h', mac='52:54:00:12:34:56')
    with pytest.raises(InvalidInputError, match='Invalid MAC'):
        backend.allocate('v6', 'h2', mac='52:54:00:12:34')


def test_allocations_listing_and_filters(backend):
    pool(backend, cidr='10.0.0.0/24')
    pool(backend, name='other', cidr='10.1.0.0/24')
    backend.allocate('lab', 'b')
    backend.allocate('lab', 'a', address='10.0.0.200')
    backend.allocate('other', 'a')
    everything = backend.allocations()
    assert [(view['pool'], view['name']) for view in everything] == [('lab', 'b'), ('lab', 'a'), ('other', 'a')]
    assert [view['pool'] for view in backend.allocations(name='a')] == ['lab', 'other']
    assert backend.allocations(address='10.0.0.200')[0]['name'] == 'a'
    assert backend.allocations(pool='missing') == []
