# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""The YAML store's writer and its fast reader.

PyYAML's constructor is pure Python even with libyaml, and dominated the cost of
an allocation (about 40 us per store line).  The store has a known shape, so it
is written line by line, one flow mapping per allocation, and read back by a
reader that accepts exactly that shape: every scalar it accepts is one that
YAML reads as the same value.  Anything else (a comment in the middle, a block
mapping someone typed by hand, an unusual scalar or character) makes it give up,
and the file is read by PyYAML's safe loader instead, so the result is always
what ``yaml.safe_load`` would return.

Both readers refuse what a hand edit can make ambiguous, where ``yaml.safe_load``
would silently choose: a repeated key (the later one would win and the earlier
data be lost on the next write), an alias (``*name``, which the writer would
expand in full) and a merge key (``<<``).  They raise ``RefusedText`` (shared with
the JSON reader) naming the key and its line.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Hashable

from .json_codec import DEEPEST, RefusedText, repeated_key

try:
    import yaml
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core
    yaml = None

HEADER = ('# ipam.allocator store: see docs/file-store.md. Safe to review and edit by hand:\n'
          '# keep "version", one pool per key under "pools", one allocation per line.\n'
          '# Comments are not kept: the next change rewrites this file without them.\n')

# Scalars written without quotes.  Each pattern only matches text that YAML 1.1
# resolves to the same string (tests/unit/.../test__yaml_codec.py checks it).
_PLAIN_WORD = re.compile(r'[A-Za-z_](?:[A-Za-z0-9_./ -]*[A-Za-z0-9_./-])?\Z')
_PLAIN_IPV4 = re.compile(r'[0-9]+(?:\.[0-9]+){3}(?:/[0-9]+)?(?:-[0-9]+(?:\.[0-9]+){3})?\Z')
_PLAIN_IPV6 = re.compile(r'[0-9a-f]+(?:::?[0-9a-f]+)*(?:::)?[0-9a-f]*(?:/[0-9]+)?\Z')
_HAS_HEX_LETTER = re.compile('[a-f]')
_YAML_WORDS = frozenset(('y', 'n', 'yes', 'no', 'true', 'false', 'on', 'off', 'null'))
_PRINTABLE = re.compile(r'[\x20-\x7e]*\Z')
_INTEGER = re.compile(r'(?:0|-?[1-9][0-9]*)\Z')
# Double-quoted text whose only escapes mean the same in JSON and YAML.
_QUOTED = r'"(?:[^"\\\n]|\\["\\])*"'


def is_plain(text):
    """True when ``text`` may be written without quotes and reads back as the same string."""
    if _PLAIN_IPV4.match(text):
        return True
    if _PLAIN_WORD.match(text):
        return text.lower() not in _YAML_WORDS
    return bool(':' in text and _PLAIN_IPV6.match(text) and ('::' in text or _HAS_HEX_LETTER.search(text))
                and text[0] != ':' and text[-1] != ':')


# -- writing -------------------------------------------------------------------

def scalar(value):
    if value is None:
        return 'null'
    if value is True:
        return 'true'
    if value is False:
        return 'false'
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        if math.isnan(value):
            return '.nan'
        if math.isinf(value):
            return '.inf' if value > 0 else '-.inf'
        return repr(value)
    text = str(value)
    if is_plain(text):
        return text
    if _PRINTABLE.match(text):
        return json.dumps(text)
    return yaml.safe_dump(text, default_style='"', width=math.inf, allow_unicode=True).rstrip('\n')


def flow(value):
    if isinstance(value, dict):
        return '{%s}' % ', '.join('%s: %s' % (scalar(key), flow(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return '[%s]' % ', '.join(flow(item) for item in value)
    return scalar(value)


def dump(data, known=None):
    """The store document as YAML text: block mappings down to each pool, one line per list item.

    ``known`` maps ``id(item)`` to ``(item, text)`` for list items read from the
    store (``YamlDocument.known``): an item that is still the same object is
    unchanged (records are replaced, never edited in place), so its line is reused.
    """
    known = known or {}
    lines = [HEADER, 'version: %s\n' % scalar(data.get('version'))]
    pools = data.get('pools') or {}
    lines.append('pools:\n' if pools else 'pools: {}\n')
    for name, pool in pools.items():
        if not isinstance(pool, dict) or not pool:
            lines.append('  %s: %s\n' % (scalar(name), flow(pool)))
            continue
        lines.append('  %s:\n' % scalar(name))
        for key, value in pool.items():
            if isinstance(value, list) and value:
                lines.append('    %s:\n' % scalar(key))
                for item in value:
                    cached = known.get(id(item))
                    lines.append('      - %s\n' % (cached[1] if cached is not None and cached[0] is item else flow(item)))
            else:
                lines.append('    %s: %s\n' % (scalar(key), flow(value)))
    return ''.join(lines)


# -- reading -------------------------------------------------------------------

class _NotCanonical(Exception):
    """The text is not in the shape ``dump`` writes; PyYAML reads it instead."""


class _RepeatedInFlow(Exception):
    """A flow mapping repeats ``key``; the line reader names the line."""

    def __init__(self, key):
        super().__init__(key)
        self.key = key


# What the line reader may take as it stands in a comment or a quoted scalar: PyYAML
# refuses other control characters and reads \r, \x85, U+2028 and U+2029 as line breaks
# (and libyaml skips a BOM at the start of a line), where json.loads or a skipped
# comment line would not.  Text with any other character goes to PyYAML.
_NOT_ORDINARY = re.compile(r'[^\t\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]')

_TOKEN = r'(%s|[^,{}\[\]"\'\n#]*?)' % _QUOTED
_PAIR = re.compile(r'%s: %s(?:, |\Z)' % (_TOKEN, _TOKEN))
_LINE = re.compile(r'( *)(?:%s:(?: (.*))?|(.*))\Z' % _TOKEN)


def _value(token):
    if token[-1:] in (' ', '\t'):
        # dump never writes it, and PyYAML refuses a tab after a quoted scalar where json.loads takes it
        raise _NotCanonical(token)
    if token.startswith('"'):
        if _NOT_ORDINARY.search(token) is not None:
            raise _NotCanonical(token)
        return json.loads(token)
    if _INTEGER.match(token):
        return int(token)
    if token == 'null':
        return None
    if token == 'true':
        return True
    if token == 'false':
        return False
    if token and is_plain(token):
        return token
    raise _NotCanonical(token)


def _flow_value(text):
    if text == '{}':
        return {}
    if text == '[]':
        return []
    if text.startswith('{') and text.endswith('}'):
        inner = text[1:-1]
        mapping = {}
        position = 0
        while position < len(inner):
            match = _PAIR.match(inner, position)
            if match is None or match.end() == position:
                raise _NotCanonical(text)
            key = _value(match.group(1))
            if key in mapping:
                raise _RepeatedInFlow(key)
            mapping[key] = _value(match.group(2))
            position = match.end()
        return mapping
    return _value(text)


class YamlDocument(dict):
    """The document as read, plus the text of each list item for ``dump(known=...)``."""

    known = None


# The common line, an address record with plain name and IPv4 address, read by one regex.
_ADDRESS_LINE = re.compile(r'\{name: ([A-Za-z_][A-Za-z0-9_./-]*), address: ([0-9]+(?:\.[0-9]+){3})\}\Z')


def _list_item(text):
    match = _ADDRESS_LINE.match(text)
    if match is not None and match.group(1).lower() not in _YAML_WORDS:
        return {'name': match.group(1), 'address': match.group(2)}
    return _flow_value(text)


def _read_canonical(text):
    """The document, for text in exactly the shape ``dump`` writes; raises _NotCanonical otherwise.

    A ``key:`` line opens a value that stays None (as in YAML) until its first
    nested line turns it into a mapping or a list.  A key repeated in one mapping
    raises RefusedText: PyYAML's safe loader would keep the later one and drop the
    rest.  ``key_lines`` remembers where each key line was, to name both places.
    """
    lines = text.split('\n')
    index = 0
    while index < len(lines) and (lines[index].startswith('#') or not lines[index]):
        if _NOT_ORDINARY.search(lines[index]) is not None:
            raise _NotCanonical(lines[index])
        index += 1
    data = YamlDocument()
    known = data.known = {}
    key_lines = {}
    pools_open = False
    pool_key = None   # the pool whose settings lines come next
    list_key = None   # the pool key whose "- item" lines come next
    number = index
    try:
        for number, line in enumerate(lines[index:], index + 1):
            if not line:
                continue
            if line.startswith('      - '):
                if list_key is None:
                    raise _NotCanonical(line)
                pool = data['pools'][pool_key]
                if pool[list_key] is None:
                    pool[list_key] = []
                item = _list_item(line[8:])
                pool[list_key].append(item)
                if isinstance(item, dict):
                    known[id(item)] = (item, line[8:])
                continue
            match = _LINE.match(line)
            if match is None or match.group(4) is not None:
                raise _NotCanonical(line)
            indent, key, value = len(match.group(1)), _value(match.group(2)), match.group(3)
            list_key = None
            if indent == 0:
                pools_open, pool_key = False, None
                mapping = data
            elif indent == 2 and pools_open:
                if data['pools'] is None:
                    data['pools'] = {}
                mapping = data['pools']
            elif indent == 4 and pool_key is not None:
                if data['pools'][pool_key] is None:
                    data['pools'][pool_key] = {}
                mapping = data['pools'][pool_key]
            else:
                raise _NotCanonical(line)
            if key in mapping:
                raise RefusedText(repeated_key(key, number, key_lines[id(mapping), key]))
            key_lines[id(mapping), key] = number
            if indent == 0:
                if value is None:
                    if key != 'pools':
                        raise _NotCanonical(line)
                    data['pools'], pools_open = None, True
                else:
                    data[key] = _flow_value(value)
            elif indent == 2:
                mapping[key] = None if value is None else _flow_value(value)
                pool_key = key if value is None else None
            else:
                mapping[key] = None if value is None else _flow_value(value)
                list_key = key if value is None else None
    except _RepeatedInFlow as exc:
        raise RefusedText(repeated_key(exc.key, number, number)) from None
    return data


# -- reading with PyYAML -------------------------------------------------------

_MERGE_TAG = 'tag:yaml.org,2002:merge'


class _AliasMet(Exception):
    """The constructor reached a node a second time, through an alias; ``load`` finds the alias."""


class _StoreConstructor:
    """Mixed into a PyYAML safe loader: refuses what ``yaml.safe_load`` would silently resolve.

    A repeated key (the later one would win), an alias (a few hundred bytes of
    nested aliases expand to gigabytes when the store is written back) and a
    merge key (``<<``, which lets a later key override a merged one).
    """

    def construct_object(self, node, deep=False):
        # Only an alias leads to a node already constructed (or being constructed).
        if node in self.constructed_objects or node in self.recursive_objects:
            raise _AliasMet()
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, TypeError, AttributeError, KeyError):
            # What PyYAML's own constructors raise for a value that does not fit its explicit tag
            # (!!int abc, !!timestamp x, !!bool maybe): an error in the YAML, named with its line.
            raise yaml.constructor.ConstructorError(None, None, 'the value does not fit its tag %s' % node.tag.replace(
                'tag:yaml.org,2002:', '!!'), node.start_mark) from None

    def construct_mapping(self, node, deep=False):
        if not isinstance(node, yaml.MappingNode):
            return super().construct_mapping(node, deep=deep)   # which names what it found instead
        for key_node, _value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                raise RefusedText('the merge key (<<) at line %d is not accepted in a store: write the keys out'
                                  % (key_node.start_mark.line + 1))
        self.flatten_mapping(node)   # what is left for it to do: a "=" key becomes a string, as in safe_load
        mapping = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, Hashable):
                raise yaml.constructor.ConstructorError('while constructing a mapping', node.start_mark,
                                                        'found unhashable key', key_node.start_mark)
            if key in mapping:
                first = next(earlier for earlier, _value in node.value if self.constructed_objects[earlier] == key)
                raise RefusedText(repeated_key(key, key_node.start_mark.line + 1, first.start_mark.line + 1))
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping


_STORE_LOADERS = {}


def store_loader(loader):
    """``loader`` (a PyYAML safe loader class) refusing repeated keys, aliases and merge keys."""
    strict = _STORE_LOADERS.get(loader)
    if strict is None:
        strict = _STORE_LOADERS[loader] = type('Store' + loader.__name__, (_StoreConstructor, loader), {})
    return strict


def _first_event_line(text, loader, wanted):
    """The line of the first parser event for which ``wanted(event, depth)`` is true, or None.

    The parser is a loop over a stack of states, so it follows any nesting.
    """
    depth = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        if wanted(event, depth):
            return event.start_mark.line + 1
    return None


def load(text, loader):
    """Parse store text: the fast reader when the text has the shape ``dump`` writes, else ``loader``.

    Raises RefusedText for what a store refuses, and PyYAML's errors for text that is not YAML.
    """
    try:
        return _read_canonical(text)
    except (_NotCanonical, ValueError):
        pass
    try:
        return yaml.load(text, Loader=store_loader(loader))  # noqa: S506 - the caller passes a safe loader
    except _AliasMet:
        line = _first_event_line(text, loader, lambda event, _depth: isinstance(event, yaml.AliasEvent))
        raise RefusedText('the alias (*name) at line %s is not accepted in a store: an alias repeats another value, '
                          'and a few of them can stand for gigabytes; write the value out' % line) from None
    except RecursionError:
        # The pure-Python composer recurses once per level (libyaml stops at 1000 levels by itself).
        line = _first_event_line(text, loader, lambda _event, depth: depth > DEEPEST)
        raise RefusedText('values are nested more than %d levels deep at line %s, and a store nests five levels '
                          'at most' % (DEEPEST, line)) from None
