# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""The JSON store's writer and reader: one pool per line, so a change rewrites only what changed.

An allocation adds one record to one pool. Encoding the whole document again
cost as much as parsing it, so the store is written one pool per line, each
pool's ``addresses`` last::

    {"version":1,"pools":{
    "lab":{"cidr":"10.0.0.0/24","addresses":[{"name":"a","address":"10.0.0.1"}]},
    "dc1":{"cidr":"10.1.0.0/16"}
    }}

The reader parses each pool line on its own and keeps its text: an unchanged
pool is written back as that text, and a pool that only gained addresses as that
text with the new records spliced in before its closing ``]}``.  Any other
valid JSON (a file edited by hand, or written compactly by an older version) is
read by ``json.loads`` and written in this layout on the next change.

A repeated key is refused (``RefusedText``, naming the key and its line), where
``json.loads`` would keep the later value and the next write would lose the
other: the line reader checks each pool's own keys as it reads them, and counts
the keys below them in C (see ``_hides_no_repeated_key``); the fallback reads
with an ``object_pairs_hook`` that refuses them.
"""

from __future__ import annotations

import json
import re
from itertools import repeat
from operator import is_

_DECODER = json.JSONDecoder()
_HEAD_START = '{"version":'
_HEAD_END = ',"pools":{'
_TAIL = '}}'


def _encode(value):
    return json.dumps(value, ensure_ascii=False, separators=(',', ':'))


class JsonDocument(dict):
    """The document as read, plus ``known``: pool name -> (pool as read, its text)."""

    known = None


class _NotLayout(Exception):
    """The text is not in the one-pool-per-line layout; ``json.loads`` reads it instead."""


class RefusedText(Exception):
    """Text that parses, but that a store refuses rather than guess at (a repeated key, nesting too deep).

    The message names the problem and its line.  The YAML reader raises it too.
    """


def repeated_key(key, line, first_line):
    if line == first_line:
        where = 'appears twice in the mapping at line %d' % line
    else:
        where = 'at line %d repeats the one at line %d' % (line, first_line)
    return 'key %r %s, and a reader would keep only one of them: merge the two or rename one' % (key, where)


class _Repeated(Exception):
    """``json.loads``' object_pairs_hook met a repeated key; ``_first_problem`` finds where."""


def _refuse_repeats(pairs):
    mapping = dict(pairs)
    if len(mapping) != len(pairs):
        raise _Repeated()
    return mapping


def _strict_loads(text):
    return json.loads(text, object_pairs_hook=_refuse_repeats)


# Far deeper than a store goes (five levels), far shallower than Python's recursion limit.
DEEPEST = 100
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\],:]')


def _first_problem(text):
    """What ``json.loads`` could not be trusted with in ``text``: a repeated key or nesting deeper than DEEPEST.

    Only called once the C parser has met one of them, to name its place: a
    tokenizer with its own stack, so it follows any nesting.
    """
    def line_of(position):
        return text.count('\n', 0, position) + 1

    stack = []          # per open bracket: for an object, {key: position}; for an array, None
    expect_key = False
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        if token in ('{', '['):
            stack.append({} if token == '{' else None)
            expect_key = token == '{'
            if len(stack) > DEEPEST:
                position = match.start()
                return ('values are nested more than %d levels deep at line %d, column %d, and a store nests five '
                        'levels at most' % (DEEPEST, line_of(position), position - text.rfind('\n', 0, position)))
        elif token in ('}', ']'):
            if stack:
                stack.pop()
            expect_key = False
        elif token == ',':
            expect_key = bool(stack) and stack[-1] is not None
        elif token == ':':
            expect_key = False
        elif expect_key:
            try:
                key = json.loads(token)
            except ValueError:
                key = token
            keys = stack[-1]
            if key in keys:
                return repeated_key(key, line_of(match.start()), line_of(keys[key]))
            keys[key] = match.start()
            expect_key = False
    return None


def _read_lines(text):
    lines = text.split('\n')
    if len(lines) < 4 or lines[-1] or lines[-2] != _TAIL:
        raise _NotLayout()
    head = lines[0]
    if not (head.startswith(_HEAD_START) and head.endswith(_HEAD_END)):
        raise _NotLayout()
    data = JsonDocument(version=_strict_loads(head[len(_HEAD_START):-len(_HEAD_END)]), pools={})
    known = data.known = {}
    pools = data['pools']
    body = lines[1:-2]
    last = len(body) - 1
    for index, line in enumerate(body):
        if index < last:
            if not line.endswith(','):
                raise _NotLayout()
            line = line[:-1]
        number = index + 2
        name, end = _key(line, 0)
        if name in pools:
            raise RefusedText(repeated_key(name, number, list(pools).index(name) + 2))
        pool = _read_pool(line, end + 1, number)
        if not _hides_no_repeated_key(line, pool):
            _strict_loads(line[end + 1:])   # the count cannot tell: parse the line again, seeing every key
        pools[name] = pool
        if isinstance(pool, dict):
            known[name] = (pool, line[end + 1:])
        else:
            known.pop(name, None)
    return data


def _key(line, index):
    """The key string at ``line[index:]`` and the index of the colon after it."""
    key, end = _DECODER.raw_decode(line, index)
    if not isinstance(key, str) or line[end:end + 1] != ':':
        raise _NotLayout()
    return key, end


def _read_pool(line, index, number):
    """The value at ``line[index:]`` (line ``number`` of the store), which must end the line, with a pool's keys read one by one.

    Each value is parsed by the C scanner.  A pool's own keys are read here (there are
    only a few), so a repeated one is refused with its name.
    """
    if line[index:index + 1] != '{':
        value, end = _DECODER.raw_decode(line, index)
        if end != len(line):
            raise _NotLayout()
        return value
    pool = {}
    index += 1
    if line[index:index + 1] == '}':
        index += 1
    else:
        while True:
            key, index = _key(line, index)
            if key in pool:
                raise RefusedText(repeated_key(key, number, number))
            pool[key], index = _DECODER.raw_decode(line, index + 1)
            separator = line[index:index + 1]
            index += 1
            if separator == '}':
                break
            if separator != ',':
                raise _NotLayout()
    if index != len(line):
        raise _NotLayout()
    return pool


def _hides_no_repeated_key(line, value):
    """True when the pool line ``line``, read as ``value``, cannot hold a repeated key at any depth.

    The parsed value has one key per key of the text, fewer when one repeats; the
    keys of the pool and of the mappings in its lists are counted in C.  Every key
    of the text is followed by a colon, so the line has at least as many colons as
    keys, more only where a string holds one.  So when the colons are as many as
    the keys counted (the pool's name is one), no key repeats.  IPv6 addresses hold
    colons: then count '":' instead, which every key ends with unless white space
    stands before its colon (and a string holds only where it has '":' or starts
    with ':').  When neither count tells, the caller parses the line again.
    """
    counted = 1
    for item in (value.values() if isinstance(value, dict) else (value,)):
        if isinstance(item, list) and item and all(map(isinstance, item, repeat(dict))):
            counted += sum(map(len, item))
    if isinstance(value, dict):
        counted += len(value)
    if line.count(':') == counted:
        return True
    for space in ' \t\r':
        if line.find(space) >= 0 and space + ':' in line:   # find() of one character is a memchr
            return False
    return line.count('":') == counted


def _refused(text):
    return RefusedText(_first_problem(text) or 'it repeats a key or nests values too deeply')


def load(text):
    """Parse store text; raises ValueError (json.JSONDecodeError) when it is not JSON, RefusedText for a repeated key."""
    try:
        return _read_lines(text)
    except (_NotLayout, ValueError):
        pass
    except (_Repeated, RecursionError):
        raise _refused(text) from None
    try:
        return _strict_loads(text)
    except (_Repeated, RecursionError):
        raise _refused(text) from None


def _addresses_last(pool):
    if 'addresses' not in pool or next(reversed(pool)) == 'addresses':
        return pool
    ordered = {key: value for key, value in pool.items() if key != 'addresses'}
    ordered['addresses'] = pool['addresses']
    return ordered


def _spliced(pool, read, text):
    """``text`` with ``pool``'s new addresses spliced in, when ``pool`` is ``read`` plus appended records; else None.

    Records are replaced, never edited in place, so the records read are still the same objects.
    """
    if not (text.endswith(']}') and read and next(reversed(read)) == 'addresses' and pool.keys() == read.keys()):
        return None
    before, now = read['addresses'], pool['addresses']
    if not (isinstance(before, list) and isinstance(now, list) and len(now) > len(before)
            and all(map(is_, now, before))):
        return None
    for key, value in read.items():
        if key != 'addresses' and _encode(pool[key]) != _encode(value):
            return None
    added = ','.join(map(_encode, now[len(before):]))
    return '%s%s%s]}' % (text[:-2], ',' if before else '', added)


def _pool_text(pool, known):
    if known is not None:
        read, text = known
        if pool is read:
            return text
        if isinstance(pool, dict):
            spliced = _spliced(pool, read, text)
            if spliced is not None:
                return spliced
    return _encode(_addresses_last(pool) if isinstance(pool, dict) else pool)


def dump(data, known=None):
    """The store document as JSON text, one pool per line, reusing the text of pools read unchanged."""
    known = known or {}
    pools = data.get('pools') or {}
    head = '%s%s%s' % (_HEAD_START, _encode(data.get('version')), _HEAD_END)
    if not pools:
        return head + _TAIL + '\n'
    lines = ['%s:%s' % (_encode(name), _pool_text(pool, known.get(name))) for name, pool in pools.items()]
    return '%s\n%s\n%s\n' % (head, ',\n'.join(lines), _TAIL)
