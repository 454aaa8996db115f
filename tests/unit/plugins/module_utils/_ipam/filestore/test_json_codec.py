# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The JSON writer round-trips, reuses and splices pool text correctly, and the reader always agrees with json.loads."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.ipam.allocator.plugins.module_utils._ipam.filestore import json_codec
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.registry import load_backend

TRICKY = ['10.0.0.1', '2001:db8::1', '', ',', ']}', '"', '\\', '\n', '\u2028', 'é', '}}\n', ':', '{"a":1}']
scalars = st.one_of(st.text(max_size=10), st.integers(-5, 10 ** 20), st.booleans(), st.none(), st.sampled_from(TRICKY))
records = st.lists(st.dictionaries(st.sampled_from(['name', 'address', 'description']), scalars), max_size=4)
documents = st.fixed_dictionaries({
    'version': st.just(1),
    'pools': st.dictionaries(st.one_of(st.text(max_size=8), st.sampled_from(TRICKY)), st.one_of(
        st.fixed_dictionaries({'cidr': scalars}, optional={'addresses': records, 'ranges': st.lists(scalars, max_size=2),
                                                           'prefixes': records, 'description': scalars}),
        scalars), max_size=4),
})
# Besides breaking the syntax, edits that repeat a key (at any depth, with or without white space before
# the colon) and strings that look like keys to a count of '":'.
EDITS = ['', ' ', ',', ':', '"', '{', '}', '[', ']', '\n', 'x', '1', '"a":1,', '}}\n', ']}', '\\', '"cidr":"x",',
         '"name":"n",', '"cidr" :"x",', '"version":1,', '"addresses":[],', '{"name":"n","name":"m"},', '"\\":",',
         '"::1",', '"lab":{},']


def load_or_error(loader, text):
    try:
        return ('ok', loader(text))
    except ValueError:
        return ('error', None)
    except json_codec.RefusedText:
        return ('refused', None)


def strict_json_loads(text):
    """json.loads, refusing a repeated key (the model of what the store reads)."""
    def pairs_hook(pairs):
        if len({key for key, _value in pairs}) != len(pairs):
            raise json_codec.RefusedText('repeated key')
        return dict(pairs)
    return json.loads(text, object_pairs_hook=pairs_hook)


@settings(max_examples=400, deadline=None)
@given(documents)
def test_writer_round_trips_and_the_reader_takes_its_layout(document):
    text = json_codec.dump(document)
    assert json.loads(text) == document
    assert json_codec.load(text) == document
    if len(document['pools']) > 0:
        # The fast path is the normal path: it must not give up on what the writer makes.
        assert json_codec._read_lines(text) == document


@settings(max_examples=600, deadline=None)
@given(documents, st.integers(0, 400), st.sampled_from(EDITS))
def test_reader_on_edited_text_agrees_with_json_loads(document, position, insertion):
    text = json_codec.dump(document)
    position = position % (len(text) + 1)
    edited = text[:position] + insertion + text[position:]
    assert load_or_error(json_codec.load, edited) == load_or_error(strict_json_loads, edited)


@settings(max_examples=300, deadline=None)
@given(documents, st.data())
def test_rewrite_after_changes_matches_a_full_encode(document, data):
    """Whatever a writer changes (appends, replacements, removals, settings), reused and spliced text encodes the same."""
    read = json_codec.load(json_codec.dump(document))
    changed = {'version': read['version'], 'pools': {}}
    for name, pool in read['pools'].items():
        action = data.draw(st.sampled_from(['keep', 'append', 'replace', 'drop', 'settings', 'copy']))
        if action == 'drop':
            continue
        if action == 'keep' or not isinstance(pool, dict):
            changed['pools'][name] = pool
            continue
        new = dict(pool)
        if action == 'append':
            new['addresses'] = list(pool.get('addresses') or []) + data.draw(records)
        elif action == 'replace' and pool.get('addresses'):
            new['addresses'] = [dict(item) for item in pool['addresses']][1:] + data.draw(records)
        elif action == 'settings':
            new['cidr'] = data.draw(scalars)
            new['addresses'] = list(pool.get('addresses') or []) + data.draw(records)
        changed['pools'][name] = new
    changed['pools'].update(data.draw(st.dictionaries(st.text(max_size=3), st.fixed_dictionaries({'cidr': scalars}), max_size=2)))
    text = json_codec.dump(changed, getattr(read, 'known', None))
    assert json.loads(text) == changed
    if changed['pools']:
        assert json_codec._read_lines(text) == changed


def test_unchanged_pools_are_written_back_as_read_and_appends_are_spliced():
    # Escapes the writer would not produce (it writes "é" and "/"), so reuse is visible in the output.
    pool_a = '{"cidr":"10.0.0.0\\/24","description":"caf\\u00e9","addresses":[{"name":"x","address":"10.0.0.1"}]}'
    text = ('{"version":1,"pools":{\n'
            '"a":%s,\n'
            '"b":{"cidr":"10.1.0.0/24","addresses":[]}\n'
            '}}\n' % pool_a)
    read = json_codec.load(text)
    pools = read['pools']
    assert pools['a']['description'] == 'caf\u00e9' and sorted(read.known) == ['a', 'b']
    grown = {'cidr': '10.1.0.0/24', 'addresses': [{'name': 'y', 'address': '10.1.0.1'}]}
    written = json_codec.dump({'version': 1, 'pools': {'a': pools['a'], 'b': grown}}, read.known)
    assert written.split('\n')[1] == '"a":%s,' % pool_a
    assert written.split('\n')[2] == '"b":{"cidr":"10.1.0.0/24","addresses":[{"name":"y","address":"10.1.0.1"}]}'
    appended = dict(pools['a'], addresses=pools['a']['addresses'] + [{'name': 'z', 'address': '10.0.0.2'}])
    written = json_codec.dump({'version': 1, 'pools': {'a': appended}}, read.known)
    assert written.split('\n')[1] == '"a":%s,{"name":"z","address":"10.0.0.2"}]}' % pool_a[:-2]


def test_text_with_white_space_is_read_by_json_loads_and_written_compactly():
    text = '{"version":1,"pools":{\n"a":{ "cidr": "10.0.0.0/24"}\n}}\n'
    read = json_codec.load(text)
    assert read == json.loads(text) and getattr(read, 'known', None) is None
    assert json_codec.dump(read).split('\n')[1] == '"a":{"cidr":"10.0.0.0/24"}'


def test_a_pool_whose_settings_changed_is_encoded_again():
    read = json_codec.load('{"version":1,"pools":{\n"a":{"cidr":"10.0.0.0/24","gateway":1,"addresses":[]}\n}}\n')
    # 1.0 == 1 in Python; the text must still say what the new value is.
    changed = dict(read['pools']['a'], gateway=1.0, addresses=[{'name': 'n', 'address': '10.0.0.5'}])
    written = json_codec.dump({'version': 1, 'pools': {'a': changed}}, read.known)
    assert json.loads(written)['pools']['a']['gateway'] == 1.0 and '"gateway":1.0' in written


def test_compact_store_of_an_older_version_is_read_and_rewritten_in_the_layout(tmp_path):
    path = tmp_path / 'store.json'
    path.write_text(json.dumps({'version': 1, 'pools': {'lab': {'cidr': '10.0.0.0/24', 'addresses': [
        {'name': 'web01', 'address': '10.0.0.1'}]}}}), encoding='utf-8')
    backend = load_backend({'store': str(path)})
    assert backend.allocate('lab', 'web02').after['address'] == '10.0.0.2'
    text = path.read_text(encoding='utf-8')
    assert text.split('\n')[0] == '{"version":1,"pools":{' and len(text.split('\n')) == 4
    assert json_codec._read_lines(text)['pools']['lab']['addresses'][-1] == {'name': 'web02', 'address': '10.0.0.2'}
    assert load_backend({'store': str(path)}).allocate('lab', 'web03').after['address'] == '10.0.0.3'
    assert [item['name'] for item in json.loads(path.read_text(encoding='utf-8'))['pools']['lab']['addresses']] == [
        'web01', 'web02', 'web03']


def test_a_pool_with_a_repeated_key_is_refused_naming_the_key_and_line():
    # json.loads keeps a repeated key at its first place with its last value: the first "reserved" entry
    # would be lost on the next write (and an append spliced before the closing "]}" would land in "reserved").
    text = ('{"version":1,"pools":{\n"lab":{"cidr":"10.0.0.0/24","reserved":["10.0.0.200"],'
            '"addresses":[{"name":"a","address":"10.0.0.5"}],"reserved":["10.0.0.250"]}\n}}\n')
    with pytest.raises(json_codec.RefusedText, match="key 'reserved' appears twice in the mapping at line 2"):
        json_codec.load(text)
