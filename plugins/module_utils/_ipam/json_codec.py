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
"""

from __future__ import annotations

import json
from operator import is_

_DECODER = json.JSONDecoder()
_HEAD_START = '{"version":'
_HEAD_END = ',"pools":{'
_TAIL = '}}'


def _encode(value):
    return json.dumps(value, ensure_ascii=False, separators=(',', ':'))


class ReadDocument(dict):
    """The document as read, plus ``known``: pool name -> (pool as read, its text)."""

    known = None


class _NotLayout(Exception):
    """The text is not in the one-pool-per-line layout; ``json.loads`` reads it instead."""


def _read_lines(text):
    lines = text.split('\n')
    if len(lines) < 4 or lines[-1] or lines[-2] != _TAIL:
        raise _NotLayout()
    head = lines[0]
    if not (head.startswith(_HEAD_START) and head.endswith(_HEAD_END)):
        raise _NotLayout()
    data = ReadDocument(version=json.loads(head[len(_HEAD_START):-len(_HEAD_END)]), pools={})
    known = data.known = {}
    pools = data['pools']
    body = lines[1:-2]
    last = len(body) - 1
    for index, line in enumerate(body):
        if index < last:
            if not line.endswith(','):
                raise _NotLayout()
            line = line[:-1]
        name, end = _key(line, 0)
        pool = _read_pool(line, end + 1)
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


def _read_pool(line, index):
    """The value at ``line[index:]``, which must end the line, with a pool's keys read one by one.

    Each value is parsed by the C scanner. Reading a pool's own keys here (there are only a
    few) is what shows a repeated key, which json.loads resolves by position and value in
    ways a spliced append could get wrong: such a line is left to json.loads.
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
                raise _NotLayout()
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


def load(text):
    """Parse store text; raises ValueError (json.JSONDecodeError) when it is not JSON."""
    try:
        return _read_lines(text)
    except (_NotLayout, ValueError):
        return json.loads(text)


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
