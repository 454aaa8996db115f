# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Each store format: round trips, the YAML writer, refusing damaged stores, atomic writes."""

from __future__ import annotations

import json
import os
import sqlite3

import pytest
import yaml

from ansible_collections.ipam.allocator.plugins.module_utils._ipam.registry import load_backend
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.core.errors import InvalidInputError, StoreError
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.core.model import ADDRESS


def populate(backend):
    backend.ensure_pool({'name': 'lab', 'cidr': '10.0.0.0/24', 'gateway': '10.0.0.1', 'ranges': ['10.0.0.10-10.0.0.99'],
                         'reserved': ['10.0.0.12'], 'description': 'Lab: "quoted" & odd'})
    backend.ensure_pool({'name': 'v6 pool', 'cidr': '2001:db8::/64'})
    backend.allocate('lab', 'web01', description='yes', dns_name='web01.example.com')
    backend.allocate('lab', 'true')
    backend.allocate('lab', '10')
    backend.allocate('lab', 'ünïcode/eth0')
    backend.allocate('v6 pool', 'null', mac='52:54:00:12:34:56')
    backend.allocate('v6 pool', '1:2')


def test_round_trip_through_a_fresh_backend(store_path):
    populate(load_backend({'store': store_path}))
    reopened = load_backend({'store': store_path})
    names = {(view['pool'], view['name']): view['address'] for view in reopened.allocations()}
    assert names == {
        ('lab', 'web01'): '10.0.0.10', ('lab', 'true'): '10.0.0.11', ('lab', '10'): '10.0.0.13',
        ('lab', 'ünïcode/eth0'): '10.0.0.14', ('v6 pool', 'null'): '2001:db8::5054:ff:fe12:3456',
        ('v6 pool', '1:2'): '2001:db8::1',
    }
    lab = reopened.pools('lab')[0]
    assert lab['description'] == 'Lab: "quoted" & odd' and lab['used'] == 4 and lab['size'] == 89
    assert reopened.allocations(name='web01')[0]['dns_name'] == 'web01.example.com'
    assert not reopened.allocate('lab', 'web01').changed


def test_yaml_store_is_one_line_per_allocation(tmp_path):
    path = str(tmp_path / 'store.yml')
    populate(load_backend({'store': path}))
    text = open(path, encoding='utf-8').read()
    assert "      - {name: web01, address: 10.0.0.10, description: \"yes\", dns_name: web01.example.com}\n" in text
    assert '      - {name: "true", address: 10.0.0.11}\n' in text
    data = yaml.safe_load(text)
    assert data['version'] == 1
    assert [entry['name'] for entry in data['pools']['lab']['addresses']] == ['web01', 'true', '10', 'ünïcode/eth0']


def test_hand_edited_yaml_is_accepted(tmp_path):
    path = tmp_path / 'store.yaml'
    path.write_text('version: 1\npools:\n  lab:\n    cidr: 10.0.0.0/29\n    addresses:\n'
                    '    - name: a\n      address: 10.0.0.1\n')
    backend = load_backend({'store': str(path)})
    assert backend.allocate('lab', 'b').after['address'] == '10.0.0.2'


def damaged_yaml(path):
    path.write_text('version: 1\npools: {lab: {cidr: 10.0.0.0/24\n')


@pytest.mark.parametrize('name, content, message', [
    ('store.yml', 'version: 1\npools: {lab: {cidr: 10.0.0.0/24\n', 'not valid YAML'),
    ('store.yml', '!!python/object/apply:os.system ["touch /tmp/pwned"]\n', 'python/object'),
    ('store.yml', 'version: 2\npools: {}\n', 'version 2'),
    ('store.yml', '- a\n- b\n', 'not a mapping'),
    ('store.yml', 'version: 1\npools: {lab: {cidr: 10.0.0.0/24, addresses: [{name: a, address: 10.9.0.1}]}}\n', 'outside'),
    ('store.yml', 'version: 1\npools: {lab: {cidr: 10.0.0.0/24, addresses: [{name: a, address: 10.0.0.1}, '
                  '{name: b, address: 10.0.0.1}]}}\n', "held by both 'a' and 'b'"),
    ('store.json', '{"version": 1, "pools": ', 'not valid JSON'),
    ('store.json', '{"version": "x", "pools": {}}', "version 'x'"),
    ('store.sqlite', 'this is not a database at all, just text that is long enough to look like a header......',
     'not a usable SQLite database'),
])
def test_damaged_stores_are_refused_and_left_untouched(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    before = path.read_bytes()
    backend = load_backend({'store': str(path)})
    with pytest.raises(StoreError, match=message):
        backend.allocate('lab', 'web01')
    with pytest.raises(StoreError, match=message):
        backend.ensure_pool({'name': 'lab', 'cidr': '10.0.0.0/24'})
    assert path.read_bytes() == before
    assert not os.path.exists('/tmp/pwned')


def test_sqlite_of_another_application_is_refused(tmp_path):
    path = tmp_path / 'other.db'
    connection = sqlite3.connect(str(path))
    connection.execute('CREATE TABLE users (id INTEGER)')
    connection.commit()
    connection.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match='something else'):
        load_backend({'store': str(path)}).ensure_pool({'name': 'lab', 'cidr': '10.0.0.0/24'})
    assert path.read_bytes() == before


def test_unknown_format_and_missing_directory(tmp_path):
    with pytest.raises(InvalidInputError, match="unknown format '.txt'"):
        load_backend({'store': str(tmp_path / 'store.txt')})
    with pytest.raises(StoreError, match='does not exist: create'):
        load_backend({'store': str(tmp_path / 'missing' / 'store.yml')})


def test_unreadable_store(tmp_path):
    path = tmp_path / 'store.yml'
    path.mkdir()
    with pytest.raises(StoreError, match='Cannot read store'):
        load_backend({'store': str(path)}).allocate('lab', 'a')


def test_writes_keep_the_mode_and_leave_no_temporary(store_path):
    backend = load_backend({'store': store_path})
    backend.ensure_pool({'name': 'lab', 'cidr': '10.0.0.0/24'})
    os.chmod(store_path, 0o640)
    backend.allocate('lab', 'a')
    assert os.stat(store_path).st_mode & 0o777 == 0o640
    leftovers = [name for name in os.listdir(os.path.dirname(store_path)) if name.endswith('.tmp')]
    assert leftovers == []


def test_reads_do_not_create_the_store(store_path):
    backend = load_backend({'store': store_path})
    assert backend.pools() == [] and backend.allocations() == []
    assert not os.path.exists(store_path)


def test_json_store_is_plain_json(tmp_path):
    path = str(tmp_path / 'store.json')
    populate(load_backend({'store': path}))
    data = json.load(open(path, encoding='utf-8'))
    assert data['pools']['lab']['addresses'][0] == {'name': 'web01', 'address': '10.0.0.10', 'description': 'yes',
                                                    'dns_name': 'web01.example.com'}


@pytest.mark.parametrize('extension', ['yml', 'json'])
def test_a_snapshot_is_reused_only_while_the_store_holds_the_same_bytes(tmp_path, extension):
    path = tmp_path / ('store.' + extension)
    backend = load_backend({'store': str(path)})
    backend.ensure_pool({'name': 'lab', 'cidr': '10.0.0.0/24'})
    backend.allocate('lab', 'web01')
    store = backend.store
    snapshot = store.load()
    # Another writer changed the store, yet inode, size and mtime are as they were (a freed inode is
    # reused at once, two writes fall in one clock tick): here, web01's line becomes web02's in place.
    before = os.stat(path)
    changed = path.read_bytes().replace(b'web01', b'web02')
    with open(path, 'r+b') as handle:
        handle.write(changed)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(path)
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (before.st_ino, before.st_size, before.st_mtime_ns)
    with store.writing(snapshot=snapshot) as transaction:
        assert transaction.state is not snapshot
        space = transaction.state.space('lab')
        assert space.named(ADDRESS, 'web01') is None and space.named(ADDRESS, 'web02') is not None
    current = store.load()
    with store.writing(snapshot=current) as transaction:
        assert transaction.state is current
