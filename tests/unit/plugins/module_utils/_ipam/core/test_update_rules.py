# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Updates change only what the task names; moves keep what they do not name; input is what it claims to be."""

from __future__ import annotations

import pytest

from ansible_collections.ipam.allocator.plugins.module_utils._ipam.registry import load_backend
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.core.errors import (
    ConflictError,
    InvalidInputError,
    PoolInUseError,
    PoolNotFoundError,
)
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.runners import run_ip_address_info

FULL_POOL = {'name': 'p4', 'cidr': '10.4.0.0/24', 'gateway': '10.4.0.1', 'ranges': ['10.4.0.1-10.4.0.99'],
             'reserved': ['10.4.0.2'], 'description': 'lab', 'min_prefix_length': 25, 'max_prefix_length': 30,
             'default_prefix_length': 28}


def test_a_pool_declared_again_with_fewer_options_keeps_the_others(backend):
    backend.ensure_pool(FULL_POOL)
    again = backend.ensure_pool({'name': 'p4', 'cidr': '10.4.0.0/24'})
    assert not again.changed
    assert again.after == again.before
    assert again.after['gateway'] == '10.4.0.1' and again.after['reserved'] == ['10.4.0.2']
    assert again.after['default_prefix_length'] == 28
    # The next allocation does not take the former gateway or the reserved entry.
    assert backend.allocate('p4', 'web01').after['address'] == '10.4.0.3'
    # Only what is given changes.
    changed = backend.ensure_pool({'name': 'p4', 'cidr': '10.4.0.0/24', 'description': 'production'})
    assert changed.changed and changed.after['description'] == 'production'
    assert {key: changed.after[key] for key in ('gateway', 'ranges', 'reserved')} == {
        'gateway': '10.4.0.1', 'ranges': ['10.4.0.1-10.4.0.99'], 'reserved': ['10.4.0.2']}


def test_clearing_a_pool_option_is_explicit(backend):
    backend.ensure_pool(FULL_POOL)
    cleared = backend.ensure_pool({'name': 'p4', 'cidr': '10.4.0.0/24', 'gateway': '', 'ranges': [], 'reserved': [],
                                   'description': '', 'default_prefix_length': '', 'min_prefix_length': '',
                                   'max_prefix_length': ''}).after
    assert (cleared['gateway'], cleared['ranges'], cleared['reserved'], cleared['description']) == (None, [], [], None)
    assert 'default_prefix_length' not in cleared and 'min_prefix_length' not in cleared
    assert backend.allocate('p4', 'web01').after['address'] == '10.4.0.1'
    assert not backend.ensure_pool({'name': 'p4', 'cidr': '10.4.0.0/24', 'gateway': ''}).changed


def test_ranges_are_a_set_kept_in_address_order(backend):
    """As a server lists its IP ranges: the same ranges in another order are no change."""
    made = backend.ensure_pool({'name': 'p5', 'cidr': '10.5.0.0/24', 'ranges': ['10.5.0.100-10.5.0.199', '10.5.0.10-10.5.0.19']})
    assert made.after['ranges'] == ['10.5.0.10-10.5.0.19', '10.5.0.100-10.5.0.199']
    again = backend.ensure_pool({'name': 'p5', 'cidr': '10.5.0.0/24', 'ranges': ['10.5.0.10-10.5.0.19', '10.5.0.100-10.5.0.199']})
    assert not again.changed


def test_prefix_length_options_take_integers_or_their_text(backend):
    view = backend.ensure_pool({'name': 's', 'cidr': '10.8.0.0/16', 'default_prefix_length': '24'}).after
    assert view['default_prefix_length'] == 24
    with pytest.raises(InvalidInputError, match='must be an integer'):
        backend.ensure_pool({'name': 's', 'cidr': '10.8.0.0/16', 'default_prefix_length': 'big'})


def test_a_name_that_moves_keeps_its_description_and_dns_name(backend):
    backend.ensure_pool({'name': 'lab', 'cidr': '10.0.0.0/24'})
    backend.allocate('lab', 'web01', description='front', dns_name='web01.example.com')
    moved = backend.allocate('lab', 'web01', address='10.0.0.77').after
    assert (moved['address'], moved['description'], moved['dns_name']) == ('10.0.0.77', 'front', 'web01.example.com')
    renamed = backend.allocate('lab', 'web01', address='10.0.0.78', dns_name='www.example.com').after
    assert (renamed['description'], renamed['dns_name']) == ('front', 'www.example.com')
    cleared = backend.allocate('lab', 'web01', description='', dns_name='').after
    assert (cleared['description'], cleared['dns_name']) == (None, None)
    assert not backend.allocate('lab', 'web01', description='').changed


def test_a_prefix_moves_only_to_a_prefix_the_task_names(backend):
    backend.ensure_pool({'name': 'sites', 'cidr': '10.128.0.0/16'})
    backend.allocate_prefix('sites', 'berlin', prefix_length=26, description='site')
    with pytest.raises(ConflictError, match='a different prefix_length alone does not move it'):
        backend.allocate_prefix('sites', 'berlin', prefix_length=27)
    # In place (it may overlap the block it leaves), and elsewhere; the description goes with it.
    shrunk = backend.allocate_prefix('sites', 'berlin', prefix='10.128.0.0/27')
    assert shrunk.changed and shrunk.before['prefix'] == '10.128.0.0/26' and shrunk.after['prefix'] == '10.128.0.0/27'
    moved = backend.allocate_prefix('sites', 'berlin', prefix='10.128.9.0/24').after
    assert (moved['prefix'], moved['description']) == ('10.128.9.0/24', 'site')
    assert [view['prefix'] for view in backend.prefixes(pool='sites')] == ['10.128.9.0/24']


def test_a_prefix_that_is_a_pool_does_not_move(backend):
    backend.ensure_pool({'name': 'sites', 'cidr': '10.128.0.0/16'})
    subnet = backend.allocate_prefix('sites', 'berlin', prefix_length=24).after['prefix']
    backend.ensure_pool({'name': 'berlin', 'cidr': subnet, 'parent': 'sites'})
    with pytest.raises(PoolInUseError, match="is pool 'berlin', which cannot move"):
        backend.allocate_prefix('sites', 'berlin', prefix='10.128.7.0/24')


def test_pools_never_overlap_but_for_prefixes_carved_from_one_another(backend):
    backend.ensure_pool({'name': 'lab', 'cidr': '10.0.0.0/24'})
    with pytest.raises(InvalidInputError, match=r"overlaps pool 'lab' \(10.0.0.0/24\)"):
        backend.ensure_pool({'name': 'half', 'cidr': '10.0.0.0/25'})
    with pytest.raises(InvalidInputError, match="overlaps pool 'lab'"):
        backend.ensure_pool({'name': 'wide', 'cidr': '10.0.0.0/16'})
    backend.ensure_pool({'name': 'sites', 'cidr': '10.128.0.0/16'})
    subnet = backend.allocate_prefix('sites', 'berlin', prefix_length=24).after['prefix']
    backend.ensure_pool({'name': 'berlin', 'cidr': subnet, 'parent': 'sites'})
    with pytest.raises(InvalidInputError, match="overlaps pool 'berlin'"):
        backend.ensure_pool({'name': 'berlin2', 'cidr': subnet, 'parent': 'sites'})
    # A grandchild lies in its grandparent too, and the parent can still be updated.
    room = backend.allocate_prefix('berlin', 'room', prefix_length=26).after['prefix']
    backend.ensure_pool({'name': 'room', 'cidr': room, 'parent': 'berlin'})
    assert backend.ensure_pool({'name': 'sites', 'cidr': '10.128.0.0/16', 'description': 'all sites'}).changed
    # IPv6 and IPv4 never overlap.
    backend.ensure_pool({'name': 'lab6', 'cidr': '::/0'})
    assert [view['name'] for view in backend.pools()] == ['berlin', 'lab', 'lab6', 'room', 'sites']


@pytest.mark.parametrize('name, reason', [
    (['a', 'b'], 'expected a string, got a list'),
    ('web\n01', 'which a name may not hold'),
    ('web\x0001', 'which a name may not hold'),
    ('web\ud80001', 'which a name may not hold'),
    ('x' * 1000000, 'at most 200'),
    (' web01', 'starts or ends with white space'),
    ('', 'non-empty'),
])
def test_names_are_printable_bounded_strings(backend, name, reason):
    backend.ensure_pool({'name': 'lab', 'cidr': '10.0.0.0/24'})
    with pytest.raises(InvalidInputError, match=reason):
        backend.allocate('lab', name)
    with pytest.raises(InvalidInputError, match=reason.replace('non-empty', 'empty')):
        backend.ensure_pool({'name': name, 'cidr': '10.1.0.0/24'})
    assert backend.allocations() == [] and [view['name'] for view in backend.pools()] == ['lab']


@pytest.mark.parametrize('dns_name', ['-web.example.com', 'web_01.example.com', 'a' * 64 + '.com', 'web..com',
                                      '.'.join(['x' * 63] * 4) + '.com', 'web 01'])
def test_dns_names_follow_rfc_1123(backend, dns_name):
    backend.ensure_pool({'name': 'lab', 'cidr': '10.0.0.0/24'})
    with pytest.raises(InvalidInputError, match='RFC 1123'):
        backend.allocate('lab', 'web01', dns_name=dns_name)
    assert backend.allocate('lab', 'web01', dns_name='web-01.Example.com.').after['dns_name'] == 'web-01.Example.com.'


def test_info_on_a_pool_that_does_not_exist_is_an_error(backend):
    backend.ensure_pool({'name': 'lab', 'cidr': '10.0.0.0/24'})
    with pytest.raises(PoolNotFoundError, match="'nosuch' does not exist"):
        run_ip_address_info(backend, {'pool': 'nosuch'}, False)
    assert run_ip_address_info(backend, {'pool': 'lab'}, False)['pools'][0]['name'] == 'lab'


@pytest.mark.parametrize('value', [float('nan'), float('inf'), -1, True, 'soon'])
def test_lock_timeout_is_a_finite_number_of_seconds(store_path, value):
    with pytest.raises(InvalidInputError, match='lock_timeout .* must be a finite number of seconds'):
        load_backend({'store': store_path, 'lock_timeout': value})
