# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A hand-edited YAML or JSON store is read exactly or refused, naming the place, and never rewritten when refused.

Each case writes the store text a person could leave behind and runs the backend
on it, as the modules, lookups and the inventory plugin do.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.ipam.allocator.plugins.module_utils._ipam.filestore import json_codec, store_document, yaml_codec
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.registry import load_backend
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.core.errors import IpamError, StoreError

YAML_STORE = '''version: 1
pools:
  lab:
    cidr: 10.0.0.0/24
    addresses:
      - {name: a, address: 10.0.0.1}
      - {name: b, address: 10.0.0.2}
  other:
    cidr: 10.1.0.0/24
'''

JSON_STORE = ('{"version":1,"pools":{\n'
              '"lab":{"cidr":"10.0.0.0/24","addresses":[{"name":"a","address":"10.0.0.1"},{"name":"b","address":"10.0.0.2"}]},\n'
              '"other":{"cidr":"10.1.0.0/24"}\n'
              '}}\n')

# Every kind of operation: a new allocation, a rerun, a release, check mode, the reads of
# ip_address_info and the inventory, a pool update.
OPERATIONS = {
    'allocate': lambda backend: backend.allocate('lab', 'new'),
    'rerun': lambda backend: backend.allocate('lab', 'a'),
    'release': lambda backend: backend.release('lab', 'b'),
    'check mode': lambda backend: backend.allocate('lab', 'new', check_mode=True),
    'list': lambda backend: backend.allocations(),
    'named lookup': lambda backend: backend.allocations(name='a'),
    'pools': lambda backend: backend.pools(),
    'other pool': lambda backend: backend.ensure_pool({'name': 'other', 'cidr': '10.1.0.0/24', 'description': 'x'}),
}


def assert_refused(path, text, *patterns):
    """Every operation on the store ``text`` fails with a StoreError matching ``patterns``; the file is never touched."""
    with open(path, 'w', encoding='utf-8', newline='') as handle:
        handle.write(text)
    before = open(path, 'rb').read()
    for name, operation in OPERATIONS.items():
        with pytest.raises(StoreError) as caught:
            operation(load_backend({'store': path}))
        message = str(caught.value)
        assert path in message, name
        for pattern in patterns:
            assert pattern in message, (name, message)
        assert open(path, 'rb').read() == before, name


# -- repeated keys (item 5) ---------------------------------------------------------

@pytest.mark.parametrize('text, key, line, first_line', [
    # A second "addresses:" under a pool: the next write kept only the later list.
    (YAML_STORE.replace('  other:', '    addresses:\n      - {name: c, address: 10.0.0.1}\n  other:'), 'addresses', 8, 5),
    # A pool renamed to another pool's name: the first one vanished.
    (YAML_STORE.replace('  other:', '  lab:'), 'lab', 8, 3),
    (YAML_STORE.replace('    cidr: 10.0.0.0/24\n', '    cidr: 10.0.0.0/24\n    cidr: 10.0.0.0/16\n'), 'cidr', 5, 4),
    (YAML_STORE + 'version: 1\n', 'version', 10, 1),
    (YAML_STORE.replace('{name: b,', '{name: b, name: c,'), 'name', 7, 7),
], ids=['addresses', 'pool', 'setting', 'version', 'in a record'])
def test_a_repeated_key_in_the_yaml_layout_is_refused(tmp_path, text, key, line, first_line):
    with pytest.raises(yaml_codec.RefusedText):
        yaml_codec._read_canonical(text)  # the line reader refuses it itself, before PyYAML
    place = ('appears twice in the mapping at line %d' % line if line == first_line
             else 'at line %d repeats the one at line %d' % (line, first_line))
    assert_refused(str(tmp_path / 'store.yml'), text, "key '%s' %s" % (key, place))


HAND_TYPED = '''version: 1
pools:
  lab:
    cidr: 10.0.0.0/24
    # typed by hand, block style: read by PyYAML
    addresses:
    - name: a
      address: 10.0.0.1
    - name: b
      address: 10.0.0.2
      name: c
'''


@pytest.mark.parametrize('text, key, line, first_line', [
    (HAND_TYPED, 'name', 11, 9),
    (HAND_TYPED.replace('      name: c\n', '') + '    addresses: []\n', 'addresses', 11, 6),
    (HAND_TYPED.replace('      name: c\n', '') + '  lab: {cidr: 10.0.0.0/24}\n', 'lab', 11, 3),
    # YAML reads 1 and true as keys apart, Python as one: refused too, as a reader could take either.
    (HAND_TYPED.replace('      name: c\n', '') + '    1: x\n    true: y\n', True, 12, 11),
], ids=['in a record', 'addresses', 'pool', 'one and true'])
def test_a_repeated_key_in_hand_typed_yaml_is_refused(tmp_path, text, key, line, first_line):
    assert_refused(str(tmp_path / 'store.yml'), text, 'key %r at line %d repeats the one at line %d' % (key, line, first_line))


@pytest.mark.parametrize('text, key, place', [
    (JSON_STORE.replace('"other":', '"lab":'), 'lab', 'at line 3 repeats the one at line 2'),
    (JSON_STORE.replace('"cidr":"10.0.0.0/24",', '"cidr":"10.0.0.0/24","cidr":"10.0.0.0/16",'), 'cidr',
     'appears twice in the mapping at line 2'),
    (JSON_STORE.replace('{"name":"b",', '{"name":"b","name":"c",'), 'name', 'appears twice in the mapping at line 2'),
    # White space before a colon: the key count of the line reader cannot tell, the line is read again.
    (JSON_STORE.replace('{"name":"b",', '{"name" :"b","name":"c",'), 'name', 'appears twice in the mapping at line 2'),
    (JSON_STORE.replace('{"version":1,', '{"version":1,"version":1,'), 'version', 'appears twice in the mapping at line 1'),
    # Not the layout: read by json.loads, which refuses them too.
    (json.dumps({'version': 1, 'pools': {'lab': {'cidr': '10.0.0.0/24'}, 'other': {'cidr': '10.1.0.0/24'}}}, indent=2).replace(
        '"other"', '"lab"'), 'lab', 'at line 7 repeats the one at line 4'),
    (json.dumps(json.loads(JSON_STORE), indent=1).replace('"name": "b",', '"name": "b", "name": "c",'), 'name',
     'appears twice in the mapping at line 12'),
], ids=['pool', 'setting', 'in a record', 'white space', 'version', 'pool, indented', 'in a record, indented'])
def test_a_repeated_key_in_json_is_refused(tmp_path, text, key, place):
    assert_refused(str(tmp_path / 'store.json'), text, "key '%s' %s" % (key, place))


# -- aliases (item 8) -----------------------------------------------------------------

def alias_bomb(levels):
    """A pool description of a few hundred bytes that stands for 10**levels strings."""
    lines = ['    description:\n', '      - &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n']
    for level in range(1, levels):
        lines.append('      - &a%d [%s]\n' % (level, ', '.join(['*a%d' % (level - 1)] * 10)))
    return ''.join(lines)


def test_an_alias_is_refused_naming_its_line(tmp_path):
    text = YAML_STORE + '  copy:\n    cidr: 10.2.0.0/24\n    description: &text Demo\n    parent: *text\n'
    assert_refused(str(tmp_path / 'store.yml'), text, 'alias (*name) at line 13 is not accepted')


def test_a_small_alias_bomb_in_an_untouched_pool_is_refused(tmp_path):
    """Six levels already make the allocation write a million strings back into the store."""
    text = YAML_STORE + '  bomb:\n    cidr: 10.9.0.0/24\n' + alias_bomb(6)
    assert_refused(str(tmp_path / 'store.yml'), text, 'alias (*name) at line 14')


def test_a_billion_laughs_do_not_hang_an_allocation(tmp_path):
    """Nine levels, under 500 bytes: a child process with bounded memory and time must see it refused."""
    path = tmp_path / 'store.yml'
    path.write_text(YAML_STORE + '  bomb:\n    cidr: 10.9.0.0/24\n' + alias_bomb(9))
    module_file = os.path.abspath(yaml_codec.__file__)
    collections = module_file[:module_file.rindex(os.sep + 'ansible_collections' + os.sep)]
    script = '\n'.join([
        'import resource, sys',
        'resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))',
        'sys.path.insert(0, %r)' % collections,
        'from ansible_collections.ipam.allocator.plugins.module_utils._ipam.registry import load_backend',
        'from ansible_collections.ipam.allocator.plugins.module_utils._ipam.core.errors import StoreError',
        'try:',
        '    load_backend({"store": %r}).allocate("lab", "new")' % str(path),
        'except StoreError as exc:',
        '    print(exc)',
    ])
    completed = subprocess.run([sys.executable, '-c', script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               timeout=120, check=False)
    assert 'alias (*name) at line 14' in completed.stdout, completed.stderr[-2000:]


def test_a_merge_key_is_refused(tmp_path):
    text = YAML_STORE + '  merged:\n    <<: {cidr: 10.3.0.0/24}\n'
    assert_refused(str(tmp_path / 'store.yml'), text, 'merge key (<<) at line 11')


# -- raw exceptions (item 17) -----------------------------------------------------------

@pytest.mark.parametrize('text', [
    '{"version":1,"pools":{"lab":%s%s}}' % ('[' * 100000, ']' * 100000),
    '{"version":1,"pools":{\n"lab":{"cidr":"10.0.0.0/24","description":%s%s}\n}}\n' % ('[' * 100000, ']' * 100000),
], ids=['compact', 'layout'])
def test_a_deeply_nested_json_store_is_refused_naming_the_place(tmp_path, text):
    assert_refused(str(tmp_path / 'store.json'), text, 'nested more than 100 levels deep at line', 'column')


def test_a_deeply_nested_yaml_store_is_refused_by_the_pure_python_loader_too(tmp_path, monkeypatch):
    """libyaml stops at 1000 levels itself; without it, PyYAML's composer recurses until Python stops it."""
    monkeypatch.setattr(store_document, '_YAML_LOADER', yaml.SafeLoader)
    text = 'version: 1\npools:\n  lab:\n    description: %s%s\n' % ('[' * 5000, ']' * 5000)
    assert_refused(str(tmp_path / 'store.yml'), text, 'nested more than 100 levels deep at line 4')


@pytest.mark.parametrize('key, read_as', [('10', 'a number'), ('1.5', 'a number'), ('null', 'null'), ('yes', 'a boolean')])
def test_a_pool_name_yaml_reads_as_no_text_is_refused_naming_it(tmp_path, key, read_as):
    text = YAML_STORE + '  %s:\n    cidr: 10.10.0.0/24\n' % key
    assert_refused(str(tmp_path / 'store.yml'), text, 'pool name', 'is read as %s, not as text: put it in quotes' % read_as)


@pytest.mark.parametrize('tagged', ['!!int web', '!!timestamp web', '!!bool maybe', '!!float x'])
def test_a_value_that_does_not_fit_its_explicit_tag_is_a_yaml_error_naming_the_line(tmp_path, tagged):
    """PyYAML's constructors raise ValueError, AttributeError or KeyError for these, which reached the user raw."""
    text = YAML_STORE.replace('    cidr: 10.1.0.0/24\n', '    cidr: 10.1.0.0/24\n    description: %s\n' % tagged)
    assert_refused(str(tmp_path / 'store.yml'), text, 'not valid YAML', 'does not fit its tag !!', 'line 10')


# -- comments (item 9) ------------------------------------------------------------------

def test_comments_are_not_kept_and_the_store_says_so(tmp_path):
    path = tmp_path / 'store.yml'
    path.write_text(HAND_TYPED.replace('      name: c\n', ''))
    load_backend({'store': str(path)}).allocate('lab', 'c')
    text = path.read_text()
    assert 'typed by hand' not in text
    assert text.startswith(yaml_codec.HEADER) and 'Comments are not kept' in yaml_codec.HEADER


# -- two names on one address (item 6) ---------------------------------------------------

SHARED_YAML = YAML_STORE.replace('{name: b, address: 10.0.0.2}', '{name: b, address: 10.0.0.1}')
SHARED_JSON = JSON_STORE.replace('{"name":"b","address":"10.0.0.2"}', '{"name":"b","address":"10.0.0.1"}')
SHARED_IPV6 = YAML_STORE.replace('10.0.0.0/24', '2001:db8::/64').replace('10.0.0.1}', '2001:db8::1}').replace(
    '10.0.0.2}', '"2001:DB8:0::1"}')
SHARED_PREFIX = YAML_STORE.replace('    addresses:\n', '    prefixes:\n      - {name: site, prefix: 10.0.0.0/28}\n    addresses:\n')


def changes(cidr):
    """What may change the store, a rerun included: each refuses a pool with two names on one address."""
    found = {name: OPERATIONS[name] for name in ('allocate', 'rerun', 'release', 'check mode')}
    found['rerun of the other'] = lambda backend: backend.allocate('lab', 'b')
    found['pool update'] = lambda backend: backend.ensure_pool({'name': 'lab', 'cidr': cidr, 'description': 'x'})
    found['next free'] = lambda backend: backend.peek('lab')
    return found


# What only reads lists both names, and warns.
READS = {name: OPERATIONS[name] for name in ('list', 'named lookup', 'pools')}
READS['by address'] = lambda backend: backend.allocations(address='10.0.0.9')


@pytest.mark.parametrize('extension, text, cidr, holders', [
    ('yml', SHARED_YAML, '10.0.0.0/24', "10.0.0.1 is held by both 'a' and 'b'"),
    ('json', SHARED_JSON, '10.0.0.0/24', "10.0.0.1 is held by both 'a' and 'b'"),
    # Two spellings of one IPv6 address.
    ('yml', SHARED_IPV6, '2001:db8::/64', "2001:db8::1 is held by both 'a' and 'b'"),
    # An address inside a child prefix of the same pool.
    ('yml', SHARED_PREFIX, '10.0.0.0/24', "10.0.0.1 is held by both 'site' and 'a'"),
], ids=['yaml', 'json', 'ipv6 spellings', 'inside a prefix'])
def test_two_names_on_one_address_refuse_every_change_and_warn_every_read(tmp_path, extension, text, cidr, holders):
    path = str(tmp_path / ('store.' + extension))
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write(text)
    before = open(path, 'rb').read()
    for name, operation in changes(cidr).items():
        with pytest.raises(StoreError, match="pool 'lab': %s" % holders) as caught:
            operation(load_backend({'store': path}))
        assert path in str(caught.value), name
        assert open(path, 'rb').read() == before, name
    for name, operation in READS.items():
        backend = load_backend({'store': path})
        operation(backend)
        assert len(backend.warnings) == 1 and "pool 'lab': %s" % holders in backend.warnings[0], name
        assert path in backend.warnings[0] and 'every change and rerun in that pool fails' in backend.warnings[0]
    assert [view['name'] for view in load_backend({'store': path}).allocations(pool='lab')] == ['a', 'b']
    assert open(path, 'rb').read() == before


def test_reads_list_both_names_and_ip_address_info_warns(tmp_path):
    from ansible_collections.ipam.allocator.plugins.module_utils._ipam.runners import run, run_ip_address_info

    path = str(tmp_path / 'store.yml')
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write(SHARED_YAML)
    result, _predicted = run(run_ip_address_info, {'store': path, 'pool': 'lab', 'name': None, 'address': None}, False)
    assert [(view['name'], view['address']) for view in result['allocations']] == [('a', '10.0.0.1'), ('b', '10.0.0.1')]
    assert result['warnings'] == ["Store %s is invalid: pool 'lab': 10.0.0.1 is held by both 'a' and 'b'. Fix the file "
                                  "by hand: until then every change and rerun in that pool fails" % path]


def test_a_pool_without_shared_addresses_is_read_without_a_warning(tmp_path):
    path = str(tmp_path / 'store.yml')
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write(SHARED_IPV6.replace('"2001:DB8:0::1"', '"2001:DB8:0::2"'))
    backend = load_backend({'store': path})
    assert [view['address'] for view in backend.allocations()] == ['2001:db8::1', '2001:db8::2']
    assert backend.allocate('lab', 'a').after['address'] == '2001:db8::1' and backend.warnings == []
    # The addresses the check parsed are what the allocation then sorts.
    assert backend.allocate('lab', 'c').after['address'] == '2001:db8::3'


# -- any hand edit ---------------------------------------------------------------------------

EDITED_STORE = '''version: 1
pools:
  lab:
    cidr: 10.0.0.0/24
    gateway: 10.0.0.1
    reserved:
      - 10.0.0.9
    addresses:
      - {name: a, address: 10.0.0.2}
      - {name: b, address: 10.0.0.3, description: x}
  six:
    cidr: 2001:db8::/64
    addresses:
      - {name: c, address: 2001:db8::1}
  sites:
    cidr: 10.128.0.0/16
    prefixes:
      - {name: berlin, prefix: 10.128.0.0/26}
'''
# Broken syntax, odd scalars and tags, repeated keys, aliases, records and settings a person could type.
HAND_EDITS = ['', ' ', '#', ':', ', ', '- ', '"', "'", '{', '}', '[', ']', '\t', 'x: y', '&a ', '*a', '\n', '1', 'null', 'true',
              '.5', '-', '~', '!!str ', '!!int ', '!!float ', '!!binary ', '!!timestamp ', '!!set ', '? ', '<<: {a: 1}',
              '2001:DB8::1', '::', '/33', '\n  10:\n    cidr: 10.9.0.0/24', '\n    addresses:', '\n  lab:', 'name: n, ', '\n  six:',
              '\n      - {name: z, address: 10.0.0.2}', '\n      - 5', '\n      - {name: 1, address: 10.0.0.7}', '\n      - {name: q}',
              '\n      - {name: v, address: "2001:db8:0::1"}', '\n    gateway: 10.0.0.3', '\n    ranges: [x]',
              '\n    min_prefix_length: 40', '\n      - {name: w, prefix: 10.128.0.0/8}', '\n    parent: nowhere']
EVERY_OPERATION = [
    lambda backend: backend.allocate('lab', 'new'), lambda backend: backend.allocate('lab', 'a'),
    lambda backend: backend.release('lab', 'b'), lambda backend: backend.allocate('lab', 'new', check_mode=True),
    lambda backend: backend.allocations(), lambda backend: backend.allocations(name='a'), lambda backend: backend.pools(),
    lambda backend: backend.peek('lab'), lambda backend: backend.ensure_pool({'name': 'lab', 'cidr': '10.0.0.0/24'}),
    lambda backend: backend.allocate('six', 'n'), lambda backend: backend.allocate_prefix('sites', 'p', prefix_length=26),
    lambda backend: backend.prefixes(), lambda backend: backend.remove_pool('lab', force=True),
    lambda backend: backend.release_prefix('sites', 'berlin', force=True),
]


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 10 ** 4), st.sampled_from(HAND_EDITS)), min_size=1, max_size=3),
       st.sampled_from(range(len(EVERY_OPERATION))), st.sampled_from(['yml', 'json']))
def test_any_hand_edit_is_read_or_refused_with_a_message_and_a_refusal_writes_nothing(tmp_path, edits, operation, extension):
    """Whatever a person types, each operation answers or raises an IpamError (a message), and a refusal writes nothing."""
    text = EDITED_STORE if extension == 'yml' else json_codec.dump(yaml.safe_load(EDITED_STORE))
    for at_a_line_end, position, insertion in edits:
        if at_a_line_end:   # where a person adds a line
            ends = [index for index, character in enumerate(text) if character == '\n']
            position = ends[position % len(ends)]
        position %= len(text) + 1
        text = text[:position] + insertion + text[position:]
    path = tmp_path / ('edited.' + extension)
    path.write_text(text, encoding='utf-8')
    try:
        EVERY_OPERATION[operation](load_backend({'store': str(path)}))
    except IpamError:
        assert path.read_text(encoding='utf-8') == text  # anything else escapes: a raw exception fails the test
