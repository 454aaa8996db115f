# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The check-mode overlay of the remote backends: how predictions of earlier tasks fold together.

The backends' use of it runs against real servers in tests/remote/test_backend_contract.py.
"""

from __future__ import annotations

import json

from ansible_collections.ipam.allocator.plugins.module_utils._ipam.addresses import parse_address
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.model import ADDRESS, PREFIX, Record
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.remote_predictions import (
    DROP,
    FREE,
    POOL,
    RELEASED,
    TAKE,
    Overlay,
    prediction,
)

SERVER = 'netbox https://netbox.example.com in the global table'


def address(name, text, description=None):
    value = parse_address(text)[1]
    return Record(ADDRESS, name, value, value, description)


def prefix(name, first_text, length):
    first = parse_address(first_text)[1]
    return Record(PREFIX, name, first, first + (1 << (32 - length)) - 1)


def take(pool, record, **extra):
    return prediction(SERVER, TAKE, pool, record=record, version=4, **extra)


def free(pool, record):
    return prediction(SERVER, FREE, pool, record=record, version=4)


def test_predictions_are_plain_json():
    steps = [prediction(SERVER, POOL, '10.0.0.0/24', gateway='10.0.0.1', description=None),
             take('10.0.0.0/24', address('web01', '10.0.0.2', 'front')), free('10.0.0.0/24', address('web01', '10.0.0.2'))]
    assert json.loads(json.dumps(steps)) == steps
    assert steps[1] == {'server': SERVER, 'operation': TAKE, 'pool': '10.0.0.0/24', 'kind': ADDRESS, 'name': 'web01',
                        'value': '10.0.0.2', 'description': 'front', 'dns_name': None}


def test_takes_and_frees_fold_in_order():
    pool = '10.0.0.0/24'
    overlay = Overlay(SERVER, [
        take(pool, address('web01', '10.0.0.2')),
        take(pool, address('web02', '10.0.0.3')),
        free(pool, address('web01', '10.0.0.2')),
        take(pool, address('web03', '10.0.0.9'), replaces='10.0.0.4'),   # web03 moved off an address the server holds
    ])
    assert overlay.holding(ADDRESS, pool, 'web01') is RELEASED
    assert overlay.holding(ADDRESS, pool, 'web02').first == parse_address('10.0.0.3')[1]
    assert overlay.holding(ADDRESS, pool, 'web04') is None
    assert sorted(record.name for record in overlay.taken(ADDRESS, pool)) == ['web02', 'web03']
    # web01's address was only predicted: releasing it frees nothing the server holds; web03's old one it does.
    assert [record.first for record in overlay.freed(ADDRESS, pool)] == [parse_address('10.0.0.4')[1]]
    assert len(overlay.taken(ADDRESS, pool)) - len(overlay.freed(ADDRESS, pool)) == 1     # web02: the net change
    assert overlay.holder_of(ADDRESS, pool, parse_address('10.0.0.3')[1])[0] == 'web02'
    assert overlay.holder_of(ADDRESS, pool, parse_address('10.0.0.4')[1]) == (None, RELEASED)
    assert overlay.holder_of(ADDRESS, pool, parse_address('10.0.0.2')[1]) is None
    assert overlay.holder_of(ADDRESS, pool, parse_address('10.0.0.77')[1]) is None
    # A release of what the server holds frees it; a new description of it changes no count.
    held = Overlay(SERVER, [free(pool, address('old01', '10.0.0.9')),
                            take(pool, address('old02', '10.0.0.8', 'new words'), replaces='10.0.0.8')])
    assert held.holding(ADDRESS, pool, 'old01') is RELEASED and held.holding(ADDRESS, pool, 'old02').description == 'new words'
    assert len(held.taken(ADDRESS, pool)) - len(held.freed(ADDRESS, pool)) == -1
    # Taken again after a release: no longer free.
    again = Overlay(SERVER, [free(pool, address('web01', '10.0.0.2')), take(pool, address('web09', '10.0.0.2'))])
    assert again.freed(ADDRESS, pool) == [] and again.holder_of(ADDRESS, pool, parse_address('10.0.0.2')[1])[0] == 'web09'


def test_pools_and_child_prefixes():
    overlay = Overlay(SERVER, [
        prediction(SERVER, POOL, '10.128.0.0/16', gateway=None, description='sites'),
        take('10.128.0.0/16', prefix('berlin', '10.128.1.0', 26)),
        prediction(SERVER, POOL, '10.128.1.0/26', gateway='10.128.1.1', description=None),
        prediction(SERVER, POOL, '10.128.1.0/26', gateway=None, description='berlin office'),
    ])
    assert overlay.pools == {'10.128.0.0/16': {'gateway': None, 'description': 'sites', 'ranges': None},
                             '10.128.1.0/26': {'gateway': '10.128.1.1', 'description': 'berlin office', 'ranges': None}}
    assert overlay.child_prefix('10.128.1.0/26').name == 'berlin'
    assert overlay.child_prefix('10.128.1.0/25') is None
    assert overlay.child_prefix('::a80:100/122') is None    # same integers, another family


def test_other_servers_and_damaged_steps_are_ignored():
    pool = '10.0.0.0/24'
    foreign = dict(take(pool, address('web01', '10.0.0.2')), server='nautobot https://nautobot.example.com in namespace Global')
    damaged = [None, 'text', {'server': SERVER}, dict(take(pool, address('x', '10.0.0.5')), value='not-an-address'),
               dict(take(pool, address('y', '10.0.0.6')), operation='explode'), dict(take(pool, address('z', '10.0.0.7')), kind='vlan')]
    overlay = Overlay(SERVER, [foreign] + damaged)
    assert not overlay
    assert overlay.taken(ADDRESS, pool) == [] and overlay.pools == {}
    assert Overlay(SERVER, [take(pool, address('web01', '10.0.0.2'))])


def test_a_dropped_pool_forgets_what_it_held_until_made_again():
    pool = '10.0.0.0/24'
    made = prediction(SERVER, POOL, pool, gateway='10.0.0.1', description=None)
    overlay = Overlay(SERVER, [made, take(pool, address('web01', '10.0.0.2')), prediction(SERVER, DROP, pool)])
    assert overlay.dropped == {pool} and overlay.pools == {} and overlay.taken(ADDRESS, pool) == []
    assert overlay.holding(ADDRESS, pool, 'web01') is None
    again = Overlay(SERVER, [made, prediction(SERVER, DROP, pool), made])
    assert again.dropped == set() and again.pools[pool]['gateway'] == '10.0.0.1'
