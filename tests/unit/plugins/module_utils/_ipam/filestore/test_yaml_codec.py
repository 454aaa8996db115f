# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The YAML writer round-trips, and the fast reader always agrees with yaml.safe_load."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import assume, given, settings, strategies as st

from ansible_collections.ipam.allocator.plugins.module_utils._ipam.filestore import yaml_codec

TRICKY = ['10.0.0.1', '2001:db8::1', '1:2:3:4:5:6:7:8', 'fe80::', '::1', 'yes', 'No', 'ON', '0x1F', '1e3', '.inf', '~',
          '2002-12-14', '10:20', '- a', 'a: b', '#c', '*x', 'a #b', 'web01/eth0', 'a, b', '{x}', '"q"', "'s'", 'x ',
          ' x', '', '012', '0', '-3', '1.5', '10.0.0.0/24', '10.0.0.10-10.0.0.99', 'null', 'Null', '2001:db8::/64']
scalars = st.one_of(st.text(max_size=12), st.integers(-5, 10 ** 20), st.booleans(), st.none(), st.sampled_from(TRICKY))
documents = st.fixed_dictionaries({
    'version': st.just(1),
    'pools': st.dictionaries(st.one_of(st.text(min_size=1, max_size=8), st.sampled_from(TRICKY)), st.fixed_dictionaries({
        'cidr': scalars, 'description': scalars,
        'ranges': st.lists(scalars, max_size=3),
        'addresses': st.lists(st.dictionaries(st.sampled_from(['name', 'address', 'description']), scalars), max_size=4),
    }), max_size=3),
})


EDITS = ['', ' ', '#', ':', ', ', '- ', '"', "'", '{', '}', '\t', 'x: y', '!!python/object ', '&a ', '*a', '  ', '\n', '|', '>',
         # a repeated key, at each level, in block and flow style; a merge key
         'cidr: x, ', 'name: n, ', '\n    cidr: x', '\n  lab:', '\nversion: 1', '\n    addresses:', '<<: {a: 1}, ']


def ambiguity(text):
    """What a store refuses in YAML that ``yaml.safe_load`` reads: an alias, a merge key or a repeated key, else None.

    The model, written apart from the codec: events for aliases, the composed node tree for keys.
    """
    if any(isinstance(event, yaml.AliasEvent) for event in yaml.parse(text, Loader=yaml.SafeLoader)):
        return 'alias'
    nodes = [yaml.compose(text, Loader=yaml.SafeLoader)]
    while nodes:
        node = nodes.pop()
        if isinstance(node, yaml.MappingNode):
            keys = []
            for key_node, value_node in node.value:
                if key_node.tag == 'tag:yaml.org,2002:merge':
                    return 'merge key'
                key = yaml.SafeLoader('').construct_object(key_node, deep=True)
                if key in keys:
                    return 'repeated key %r' % (key,)
                keys.append(key)
                nodes.append(value_node)
        elif isinstance(node, yaml.SequenceNode):
            nodes.extend(node.value)
    return None


def model_load(text):
    """What a store reads from ``text``: ``yaml.safe_load``'s value, 'refused' where a reader could take it two ways."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return ('error', None)
    if ambiguity(text) is not None:
        return ('refused', None)
    return ('ok', value)


def codec_load_or_error(text, loader=yaml.SafeLoader):
    try:
        return ('ok', yaml_codec.load(text, loader))
    except yaml.YAMLError:
        return ('error', None)
    except yaml_codec.RefusedText:
        return ('refused', None)


def agree(codec, model):
    """The codec reads what the model reads, refuses what it refuses; where the text is broken, any refusal will do."""
    if model[0] == 'error':
        return codec[0] in ('error', 'refused')
    return codec == model


@settings(max_examples=400, deadline=None)
@given(documents)
def test_writer_round_trips_and_reader_agrees(document):
    text = yaml_codec.dump(document)
    assert yaml.safe_load(text) == document
    assert yaml_codec.load(text, yaml.SafeLoader) == document


printable = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7e), max_size=20)
realistic = st.fixed_dictionaries({
    'version': st.just(1),
    'pools': st.dictionaries(printable.filter(bool), st.fixed_dictionaries({
        'cidr': st.sampled_from(['10.0.0.0/24', '2001:db8::/64']),
        'description': printable,
        'min_prefix_length': st.integers(0, 128),
        'ranges': st.lists(st.sampled_from(['10.0.0.10-10.0.0.99', '2001:db8::1-2001:db8::ff', '10.0.0.5']), max_size=2),
        'addresses': st.lists(st.fixed_dictionaries(
            {'name': printable, 'address': st.sampled_from(['10.0.0.1', '2001:db8::1', '1:2:3:4:5:6:7:8'])},
            optional={'description': printable, 'dns_name': printable}), max_size=4),
    }), max_size=3),
})


@settings(max_examples=300, deadline=None)
@given(realistic)
def test_fast_reader_takes_every_store_the_writer_makes_from_printable_text(document):
    """The fast path is the normal path: it must not give up on what the store itself writes."""
    assert yaml_codec._read_canonical(yaml_codec.dump(document)) == document


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(TRICKY) | st.from_regex(r'[A-Za-z0-9_./: -]{1,15}', fullmatch=True))
def test_plain_scalars_read_back_as_the_same_string(text):
    assume(yaml_codec.is_plain(text))
    assert yaml.safe_load('key: %s' % text) == {'key': text}
    assert yaml.safe_load('{key: %s, other: 1}' % text) == {'key': text, 'other': 1}
    assert yaml.safe_load('- %s' % text) == [text]


@settings(max_examples=600, deadline=None)
@given(documents, st.integers(0, 400), st.sampled_from(EDITS))
def test_fast_reader_on_edited_text_agrees_with_pyyaml(document, position, insertion):
    text = yaml_codec.dump(document)
    position = position % (len(text) + 1)
    edited = text[:position] + insertion + text[position:]
    assert agree(codec_load_or_error(edited), model_load(edited))


# Characters where the line reader and PyYAML could part: YAML's other line breaks (\r, \x85, U+2028,
# U+2029), control characters PyYAML refuses, a BOM (libyaml skips one at the start of a line), and
# ordinary ones around them.
ODD_CHARACTERS = ['\r', '\r\n', '\x85', '\u2028', '\u2029', '\x00', '\x01', '\x08', '\x0b', '\x1b', '\x7f', '\x80', '\x9f',
                  '\ufeff', '\ufffe', '\uffff', '\t', '\xa0', 'é', '\U0001f600', '"', '#', ': ', '\n']


@pytest.mark.parametrize('text', [
    yaml_codec.HEADER + '# edited\rversion: 2\npools: {}\n',
    '# edited\u2028pools: {a: 1}\nversion: 1\n',
    '# edited\x85pools: {a: 1}\nversion: 1\n',
    '# a control character \x01 in a comment\nversion: 1\npools: {}\n',
    'version: 1\npools:\n  lab:\n    description: "tab\x7fdel"\n',
    'version: 1\npools:\n  lab:\n    description: "next\x85line"\n',
    'version: 1\npools:\n  lab:\n    description: "private\ufffeuse"\n',
], ids=['CR in the header', 'U+2028 in a comment', 'NEL in a comment', 'control character in a comment',
        'DEL in quotes', 'NEL in quotes', 'non-character in quotes'])
def test_the_fast_reader_gives_odd_characters_to_pyyaml(text):
    """Each of these once read differently: the line reader took what PyYAML reads otherwise or refuses."""
    with pytest.raises(yaml_codec._NotCanonical):
        yaml_codec._read_canonical(text)
    assert agree(codec_load_or_error(text, yaml.CSafeLoader), model_load(text))


@pytest.mark.parametrize('text', [
    'version: 1\npools:\n  lab:\n    description: "00000"\t\n',
    'version: 1\npools:\n  lab:\n    min_prefix_length: 24 \n',
], ids=['tab after quotes', 'space after a number'])
def test_the_fast_reader_gives_trailing_white_space_to_pyyaml(text):
    """PyYAML's Python scanner refuses a tab after a quoted scalar, where json.loads (and libyaml) take it."""
    with pytest.raises(yaml_codec._NotCanonical):
        yaml_codec._read_canonical(text)
    assert agree(codec_load_or_error(text, yaml.SafeLoader), model_load(text))


insertions = st.lists(st.tuples(st.integers(0, 10 ** 6), st.sampled_from(ODD_CHARACTERS + EDITS)), min_size=1, max_size=3)


@settings(max_examples=1500, deadline=None)
@given(documents | realistic, insertions)
def test_whatever_the_fast_reader_accepts_pyyaml_reads_the_same(document, insertions):
    """The fast reader's promise: on any text it does not hand to PyYAML, it returns what yaml.safe_load returns."""
    text = yaml_codec.dump(document)
    for position, insertion in insertions:
        position %= len(text) + 1
        text = text[:position] + insertion + text[position:]
    try:
        fast = yaml_codec._read_canonical(text)
    except (yaml_codec._NotCanonical, ValueError):
        return  # handed to PyYAML, whose answer is the codec's by construction
    except yaml_codec.RefusedText:
        assert model_load(text)[0] in ('refused', 'error')
        return
    assert model_load(text) == ('ok', fast)
    assert codec_load_or_error(text, yaml.CSafeLoader) == ('ok', fast)


def test_the_store_loader_refuses_aliases_and_repeated_keys_where_safe_load_chooses():
    text = 'version: 1\npools:\n  a: &x {cidr: 10.0.0.0/24}\n  b: *x\n  a: {}\n'
    assert yaml.safe_load(text) == {'version': 1, 'pools': {'a': {}, 'b': {'cidr': '10.0.0.0/24'}}}
    with pytest.raises(yaml_codec.RefusedText, match='alias'):
        yaml_codec.load(text, yaml.CSafeLoader)
    with pytest.raises(yaml_codec.RefusedText, match="key 'a' at line 5 repeats the one at line 3"):
        yaml_codec.load(text.replace('*x', '{}'), yaml.CSafeLoader)
