# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""Check mode on a remote backend: what earlier check-mode tasks of the same run predicted.

A server cannot hold a change that was only predicted, so the file backend's way
(replaying predicted operations on a copy of the store) is not open to a remote
backend.  Instead it reads the predictions of earlier check-mode tasks
(``Backend.pending``) and its own (``Backend.predicted``) as an overlay on what
the server answers: pools that would have been created (or given a gateway),
names that would hold an address or a prefix, and what would have been released.
Then a chain such as "a subnet, a pool from it, addresses in it" is predicted the
way the real run makes it, although the subnet never reaches the server.

A prediction is a JSON-able dict, passed between the run's tasks through its
prediction log (``plugin_utils/_predictions.py``); one that no longer parses is ignored.
"""

from __future__ import annotations

from .addresses import parse_address, parse_network
from .errors import IpamError
from .model import ADDRESS, PREFIX, Record

POOL = 'pool'       # a pool created, or given a gateway or ranges
DROP = 'drop'       # a pool removed
TAKE = 'take'       # a name holds an address or a prefix
FREE = 'free'       # a name's address or prefix released

RELEASED = object()     # what ``Overlay.holding`` answers for a name whose allocation was released


def prediction(server, operation, pool, record=None, replaces=None, **settings):
    """One prediction of ``server`` (backend, URL and VRF/namespace) about ``pool``."""
    step = {'server': server, 'operation': operation, 'pool': pool}
    if record is not None:
        step.update(kind=record.kind, name=record.name, value=_text(record, settings.pop('version')),
                    description=record.description, dns_name=record.dns_name)
        if replaces is not None:
            step['replaces'] = replaces
    step.update(settings)
    return step


def _text(record, version):
    return record.to_doc(version)['address' if record.kind == ADDRESS else 'prefix']


def _record(step):
    kind = step['kind']
    if kind == ADDRESS:
        _version, value = parse_address(step['value'])
        return Record(ADDRESS, step['name'], value, value, step.get('description'), step.get('dns_name'))
    if kind == PREFIX:
        network = parse_network(step['value'])
        return Record(PREFIX, step['name'], network.first, network.last, step.get('description'))
    raise KeyError(kind)


class Overlay:
    """The predictions of one server, folded in the order they were made."""

    def __init__(self, server, steps):
        self.pools = {}         # cidr -> {'gateway': ..., 'description': ..., 'ranges': [text] or None}, None: unchanged
        self._held = {}         # (kind, pool cidr) -> {name: Record or RELEASED}
        self._freed = {}        # (kind, pool cidr) -> {first: Record}: server objects released
        self.dropped = set()    # pools removed (cidr)
        for step in steps:
            if not isinstance(step, dict) or step.get('server') != server:
                continue
            try:
                self._fold(step)
            except (KeyError, TypeError, ValueError, IpamError):
                continue    # a prediction that no longer parses is simply not used

    def __bool__(self):
        return bool(self.pools or self._held or self._freed or self.dropped)

    def _fold(self, step):
        operation, pool = step['operation'], str(step['pool'])
        if operation == DROP:
            self.pools.pop(pool, None)
            self.dropped.add(pool)
            for key in [key for key in list(self._held) + list(self._freed) if key[1] == pool]:
                self._held.pop(key, None)
                self._freed.pop(key, None)
            return
        if operation == POOL:
            self.dropped.discard(pool)
            known = self.pools.setdefault(pool, {'gateway': None, 'description': None, 'ranges': None})
            for key in ('gateway', 'description', 'ranges'):
                if step.get(key) is not None:
                    known[key] = step[key]
            return
        if operation not in (TAKE, FREE):
            raise KeyError(operation)
        record = _record(step)
        replaced = _record(dict(step, value=step['replaces'])) if step.get('replaces') is not None else None
        key = (record.kind, pool)
        held = self._held.setdefault(key, {})
        freed = self._freed.setdefault(key, {})
        if operation == TAKE:
            held[record.name] = record
            freed.pop(record.first, None)
            if replaced is not None:
                freed[replaced.first] = replaced
        else:
            # A release of what was only predicted frees nothing the server holds.
            if not isinstance(held.get(record.name), Record):
                freed[record.first] = record
            held[record.name] = RELEASED

    def holding(self, kind, pool, name):
        """The Record ``name`` was predicted to hold in ``pool``, RELEASED, or None when nothing was predicted."""
        return self._held.get((kind, pool), {}).get(name)

    def taken(self, kind, pool):
        """Records predicted to be made in ``pool``."""
        return [record for record in self._held.get((kind, pool), {}).values() if record is not RELEASED]

    def freed(self, kind, pool):
        """Records predicted to be released in ``pool``: on the server still, free in the real run."""
        return list(self._freed.get((kind, pool), {}).values())

    def net_change(self, kind, pool):
        """How many more objects of ``kind`` ``pool`` holds on the server once the predictions are made."""
        return len(self.taken(kind, pool)) - len(self.freed(kind, pool))

    def holder_of(self, kind, pool, first):
        """(name, Record) predicted to hold ``first`` in ``pool``; (None, RELEASED) when it was released; else None."""
        for record in self.taken(kind, pool):
            if record.first == first:
                return record.name, record
        if first in self._freed.get((kind, pool), {}):
            return None, RELEASED
        return None

    def child_prefix(self, cidr):
        """The Record of a prefix predicted to be allocated as exactly ``cidr``, or None."""
        network = parse_network(cidr)
        for (kind, pool), held in self._held.items():
            if kind != PREFIX or parse_network(pool).version != network.version:
                continue
            for record in held.values():
                if record is not RELEASED and (record.first, record.last) == (network.first, network.last):
                    return record
        return None
