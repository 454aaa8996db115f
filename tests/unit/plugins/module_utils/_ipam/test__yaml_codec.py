# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The YAML writer round-trips, and the fast reader always agrees with yaml.safe_load."""

from __future__ import annotations

import yaml
from hypothesis import assume, given, settings, strategies as st

from ansible_collections.ipam.allocator.plugins.module_utils._ipam import yaml_codec

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


EDITS = ['', ' ', '#', ':', ', ', '- ', '"', "'", '{', '}', '\t', 'x: y', '!!python/object ', '&a ', '*a', '  ', '\n', '|', '>']


def safe_load_or_error(text):
    try:
        return ('ok', yaml.safe_load(text))
    except yaml.YAMLError:
        return ('error', None)


def codec_load_or_error(text):
    try:
        return ('ok', yaml_codec.load(text, yaml.SafeLoader))
    except yaml.YAMLError:
        return ('error', None)


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
    assert codec_load_or_error(edited) == safe_load_or_error(edited)
