# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""What a store offers the engine: a ``StoreState`` of pools, each a ``PoolSpace``.

The engine (``engine.py``) only talks to these two interfaces, so the YAML/JSON
document store (``DocumentState`` below, everything in memory) and the SQLite
store (``store_sqlite.py``, everything indexed on disk) share every rule about
which address a name gets.
"""

from __future__ import annotations

import abc
import socket
from itertools import repeat
from operator import itemgetter

from .addresses import format_address, format_block
from .errors import PoolNotFoundError, StoreError, InvalidInputError
from .intervals import IntervalSet, without
from .model import ADDRESS, PREFIX, PoolSettings, Record

STORE_VERSION = 1
_RECORD_LISTS = ((ADDRESS, 'addresses'), (PREFIX, 'prefixes'))
_KIND_OF_VALUE = {int: 'a number', float: 'a number', bool: 'a boolean', type(None): 'null'}


def damaged_store(origin, problem):
    return StoreError('Store %s is invalid: %s. Fix the file by hand; it was left untouched.' % (origin, problem))


class PoolSpace(abc.ABC):
    """One pool's allocations and the set of values they (and reserved entries) occupy."""

    settings = None  # PoolSettings

    @abc.abstractmethod
    def named(self, kind, name):
        """The Record of ``kind`` held by ``name``, or None."""

    @abc.abstractmethod
    def occupied_from(self, value):
        """Yield the occupied intervals (merged, lowest first) that end at or after ``value``.

        Occupied means held by a record, a reserved entry or the gateway.
        """

    def first_gap(self, low, high):
        """The lowest unoccupied value in [low, high], or None."""
        for first, last in self.occupied_from(low):
            if first > low:
                return low
            # Occupied intervals are merged, so the value after one is free.
            return last + 1 if last + 1 <= high else None
        return low

    def gaps(self, low, high):
        """Yield the maximal unoccupied intervals of [low, high], lowest first."""
        return without(((low, high),), self.occupied_from)

    def is_free(self, first, last):
        """True when nothing occupies any value of [first, last]."""
        for start, _end in self.occupied_from(first):
            return start > last
        return True

    @abc.abstractmethod
    def find_overlapping(self, first, last):
        """A Record that overlaps [first, last], or None (used to name a holder)."""

    @abc.abstractmethod
    def records(self, kind=None):
        """Iterate the Records, optionally of one kind."""

    @abc.abstractmethod
    def add(self, record):
        """Store a record whose interval is free."""

    @abc.abstractmethod
    def remove(self, record):
        """Forget a stored record."""

    def count(self, kind):
        return sum(1 for _record in self.records(kind))

    def validate(self):
        """Raise StoreError if the stored pool breaks the rules (a hand-edited store may)."""

    #: True when a child prefix takes the pool's addresses it covers (a file store: one space for both kinds);
    #: False where addresses may lie inside child prefixes (a NetBox or Nautobot prefix and its subnets).
    prefixes_take_addresses = True

    def used(self):
        """Allocatable addresses taken: one per address record, plus what child prefixes cover."""
        used = self.count(ADDRESS)
        prefixes = list(self.records(PREFIX)) if self.prefixes_take_addresses else ()
        if prefixes:
            space = IntervalSet(self.settings.address_space())
            for first, last in self.settings.blocked():
                space.remove(first, last)
            for record in prefixes:
                for first, last in space.iter_from(record.first):
                    if first > record.last:
                        break
                    used += min(last, record.last) - max(first, record.first) + 1
        return used

    def holder_text(self, first, last):
        """Words for whatever occupies [first, last]: a name, a reserved entry or the gateway."""
        record = self.find_overlapping(first, last)
        if record is not None:
            return repr(record.name)
        for start, end in self.settings.reserved:
            if start <= last and first <= end:
                return 'the reserved entry %s' % format_block(self.settings.version, start, end)
        return 'the gateway %s' % format_address(self.settings.version, self.settings.gateway)


class StoreState(abc.ABC):
    """All pools of one store, as read inside one transaction."""

    #: False: pools of the store never overlap (pool_rules._check_no_overlap). True where the store's own
    #: hierarchy decides (prefixes nest on NetBox and Nautobot).
    pools_nest = False

    #: None: a pool that a hand edit left with two names on one address is refused as soon as
    #: its allocations are read.  A list (see ``warn_of_damage``): reported there instead.
    damage_warnings = None

    def warn_of_damage(self, warnings):
        """For a read that changes nothing: report such a pool in ``warnings`` (once) instead of refusing it.

        The read stays exact (both names are listed); every change and rerun in that pool is still refused.
        """
        self.damage_warnings = warnings

    def report_damage(self, origin, problem):
        """Refuse the store for ``problem``, or add it to ``damage_warnings`` when the caller only reads."""
        if self.damage_warnings is None:
            raise damaged_store(origin, problem)
        warning = ('Store %s is invalid: %s. Fix the file by hand: until then every change and rerun in that pool fails'
                   % (origin, problem))
        if warning not in self.damage_warnings:
            self.damage_warnings.append(warning)

    @abc.abstractmethod
    def pool_names(self):
        """Names of all pools, sorted."""

    @abc.abstractmethod
    def space(self, name):
        """The PoolSpace of pool ``name``; raises PoolNotFoundError."""

    @abc.abstractmethod
    def put_pool(self, settings):
        """Create a pool or replace its settings (its records are kept)."""

    @abc.abstractmethod
    def delete_pool(self, name):
        """Remove a pool and its records."""

    def unmade_space(self, settings):
        """What a pool not made yet would hold once made with ``settings``: None (nothing) for a store whose pools
        are its own; a server answers with the objects already inside that CIDR."""
        return None

    def note_prefix(self, pool, name, record):
        """A predicted child prefix this state does not hold (only check mode's overlay keeps such notes)."""

    def has_pool(self, name):
        try:
            self.space(name)
        except PoolNotFoundError:
            return False
        return True

    def missing_pool(self, name):
        known = self.pool_names()
        hint = ('known pools: %s' % ', '.join(known[:20])) if known else 'the store has no pools yet; create one with ipam.allocator.ip_pool'
        return PoolNotFoundError('Pool %r does not exist (%s)' % (name, hint))


def _first_overlap(held, version):
    """Words for the first value two of ``held`` (sorted ``(first, last, name)``) share, or None."""
    for (_first_a, last_a, name_a), (first_b, _last_b, name_b) in zip(held, held[1:]):
        if first_b <= last_a:
            return '%s is held by both %r and %r' % (format_address(version, first_b), name_a, name_b)
    return None


class MemoryPoolSpace(PoolSpace):
    """A pool held in memory, backed by the mapping it was read from.

    Records stay the dicts they were parsed as until a caller asks for one, so a
    pool of 100k allocations costs one pass of address parsing, not 100k objects.
    """

    def __init__(self, settings, entries, origin, owner=None):
        self.settings = settings
        self._entries = entries  # {kind: {name: doc}} in store order
        self._origin = origin
        self._owner = owner      # the StoreState that reports damage; None: refuse it
        self._occupied = None
        self._network = settings.network
        self._shared_checked = False
        self._checked_values = None  # IPv6: the addresses as ints, once checked apart, for occupied() to sort

    @classmethod
    def from_doc(cls, settings, doc, origin, owner=None):
        entries = {}
        for kind, key in _RECORD_LISTS:
            listed = doc.get(key) or []
            if not isinstance(listed, list):
                raise InvalidInputError('pool %r: %s must be a list' % (settings.name, key))
            try:
                by_name = dict(zip(map(itemgetter('name'), listed), listed))
            except (KeyError, TypeError):
                by_name = None
            # The comprehension is the fast path; the loop only runs to name a problem.
            if by_name is None or len(by_name) != len(listed) or set(map(type, by_name)) - {str}:
                by_name = {}
                for item in listed:
                    if not isinstance(item, dict) or not isinstance(item.get('name'), str):
                        raise InvalidInputError('pool %r: every entry of %s needs a "name" string, got %r' % (settings.name, key, item))
                    if item['name'] in by_name:
                        raise InvalidInputError('pool %r: name %r is listed twice in %s' % (settings.name, item['name'], key))
                    by_name[item['name']] = item
            entries[kind] = by_name
        return cls(settings, entries, origin, owner)

    def to_doc(self):
        doc = self.settings.to_doc()
        for kind, key in _RECORD_LISTS:
            if self._entries[kind]:
                doc[key] = list(self._entries[kind].values())
        return doc

    def _record(self, kind, doc):
        try:
            return Record.from_doc(kind, doc, self._network)
        except InvalidInputError as exc:
            raise damaged_store(self._origin, 'pool %r: %s' % (self.settings.name, exc)) from None

    def occupied(self):
        """Build the occupied set on first use; checks the pool for double allocations."""
        if self._occupied is None:
            self._check_shared_addresses()
            occupied = None if self._entries[PREFIX] else IntervalSet.from_points(self._address_points())
            if occupied is None:
                # The general (slower) path, which can name who overlaps whom.
                named = sorted((record.first, record.last, record.name) for record in self.records())
                problem = _first_overlap(named, self.settings.version)
                if problem is not None:
                    raise damaged_store(self._origin, 'pool %r: %s' % (self.settings.name, problem))
                occupied = IntervalSet((first, last) for first, last, _name in named)
            blocked = self.settings.blocked()
            for first, last in blocked:
                if occupied.overlaps(first, last):
                    raise damaged_store(self._origin, 'pool %r: an allocation sits on the reserved entry or gateway %s' % (
                        self.settings.name, format_block(self.settings.version, first, last)))
            for first, last in blocked:
                occupied.add(first, last)
            self._occupied = occupied
        return self._occupied

    def _address_points(self):
        """The pool's allocated addresses as ints, sorted, parsed the fast way (a bad one is parsed again to name it)."""
        family = socket.AF_INET6 if self._network.version == 6 else socket.AF_INET
        docs = self._entries[ADDRESS].values()
        checked, self._checked_values = self._checked_values, None
        try:
            # All in C: no Python-level loop over what may be a million records.
            points = sorted(checked if checked is not None else map(
                int.from_bytes, map(socket.inet_pton, repeat(family), map(itemgetter('address'), docs)), repeat('big')))
        except (KeyError, TypeError, OSError):
            points = None
        if points is None or (points and (points[0] < self._network.first or points[-1] > self._network.last)):
            for doc in docs:
                self._record(ADDRESS, doc)  # raises the precise error
        return points

    # -- two names on one address (a hand edit can leave them) --------------------------

    def _check_shared_addresses(self):
        """Once per read, before any allocation of the pool is used: refuse (or report) an address two names hold.

        Every rerun pays for this, so it is one pass in C without a sort; ``occupied()`` then
        checks the rest (reserved entries, the gateway, prefixes) when a change needs it.
        """
        if self._shared_checked:
            return
        self._shared_checked = True
        problem = self._shared_address()
        if problem is not None:
            problem = 'pool %r: %s' % (self.settings.name, problem)
            if self._owner is None:
                raise damaged_store(self._origin, problem)
            self._owner.report_damage(self._origin, problem)

    def _shared_address(self):
        """Words for an address (or block) two records hold, or None.

        IPv4 texts are compared as they are: inet_pton reads only the one dotted-decimal
        spelling of an address, so two records that parse and differ in text differ in
        address.  An IPv6 address has many spellings (2001:db8::1, 2001:DB8:0::1), so those
        are compared packed.  Child prefixes can overlap addresses: those pools are sorted.
        """
        if self._entries[PREFIX]:
            return _first_overlap(sorted((record.first, record.last, record.name) for record in self._all_records()),
                                  self.settings.version)
        docs = self._entries[ADDRESS]
        try:
            texts = set(map(itemgetter('address'), docs.values()))
            if len(texts) == len(docs):
                if self._network.version == 4:
                    return None
                values = set(map(int.from_bytes, map(socket.inet_pton, repeat(socket.AF_INET6), texts), repeat('big')))
                if len(values) == len(texts):
                    self._checked_values = values
                    return None
        except (KeyError, TypeError, OSError):
            pass   # a record that does not parse: reading each below names it
        holders = {}
        for name, doc in docs.items():
            value = self._record(ADDRESS, doc).first
            if value in holders:
                return '%s is held by both %r and %r' % (format_address(self.settings.version, value), holders[value], name)
            holders[value] = name
        return None

    def _all_records(self):
        for kind, entries in self._entries.items():
            for doc in entries.values():
                yield self._record(kind, doc)

    # -- reading records ---------------------------------------------------------------

    def named(self, kind, name):
        self._check_shared_addresses()
        doc = self._entries[kind].get(name)
        return None if doc is None else self._record(kind, doc)

    def occupied_from(self, value):
        return self.occupied().iter_from(value)

    def validate(self):
        self.occupied()

    def find_overlapping(self, first, last):
        for record in self.records():
            if record.first <= last and first <= record.last:
                return record
        return None

    def records(self, kind=None):
        self._check_shared_addresses()
        for entry_kind, entries in self._entries.items():
            if kind is None or kind == entry_kind:
                for doc in entries.values():
                    yield self._record(entry_kind, doc)

    def count(self, kind):
        self._check_shared_addresses()
        return len(self._entries[kind])

    def add(self, record):
        self.occupied().add(record.first, record.last)
        self._entries[record.kind][record.name] = record.to_doc(self.settings.version)

    def remove(self, record):
        self.occupied().remove(record.first, record.last)
        del self._entries[record.kind][record.name]

    def replace_settings(self, settings):
        self.settings = settings
        self._network = settings.network
        self._occupied = None
        self._checked_values = None


class DocumentState(StoreState):
    """A whole YAML/JSON store in memory; pools are parsed only when touched."""

    def __init__(self, data, origin):
        self._origin = origin
        self.raw = None       # the store file's bytes as read (None: no file); set by the store
        self.known = None     # the text of items as read, which the YAML writer reuses; set by the store
        if data is None:
            data = {'version': STORE_VERSION, 'pools': {}}
        if not isinstance(data, dict):
            raise StoreError('Store %s is not a mapping at its top level; it was not written by ipam.allocator. '
                             'Fix or move it; it was left untouched.' % origin)
        version = data.get('version')
        if version != STORE_VERSION:
            raise StoreError('Store %s has version %r; this ipam.allocator understands version %d only. '
                             'It was left untouched.' % (origin, version, STORE_VERSION))
        pools = data.get('pools') or {}
        if not isinstance(pools, dict):
            raise StoreError('Store %s: "pools" must be a mapping of pool name to pool. It was left untouched.' % origin)
        if not all(map(isinstance, pools, repeat(str))):
            # YAML reads 10, 1.5, true or null as such, not as text; sorting names of mixed types would fail.
            name = next(name for name in pools if not isinstance(name, str))
            raise damaged_store(origin, 'the pool name %r under "pools" is read as %s, not as text: put it in quotes' % (
                name, _KIND_OF_VALUE.get(type(name), 'a %s' % type(name).__name__)))
        unknown = set(data) - {'version', 'pools'}
        if unknown:
            raise StoreError('Store %s has unknown top-level keys: %s. It was left untouched.' % (
                origin, ', '.join(sorted(map(str, unknown)))))
        self._raw = dict(pools)
        self._spaces = {}

    def pool_names(self):
        return sorted(self._raw)

    def space(self, name):
        space = self._spaces.get(name)
        if space is None:
            if name not in self._raw:
                raise self.missing_pool(name)
            raw = self._raw[name]
            try:
                settings = PoolSettings.from_doc(name, raw)
                space = MemoryPoolSpace.from_doc(settings, raw, self._origin, owner=self)
            except InvalidInputError as exc:
                raise damaged_store(self._origin, exc) from None
            self._spaces[name] = space
        return space

    def put_pool(self, settings):
        space = self._spaces.get(settings.name)
        if space is None and settings.name in self._raw:
            space = self.space(settings.name)
        if space is None:
            space = MemoryPoolSpace(settings, {ADDRESS: {}, PREFIX: {}}, self._origin, owner=self)
            self._spaces[settings.name] = space
            self._raw[settings.name] = None
        else:
            space.replace_settings(settings)

    def delete_pool(self, name):
        self._raw.pop(name, None)
        self._spaces.pop(name, None)

    def to_data(self):
        """The document to write: untouched pools exactly as read."""
        pools = {}
        for name in self._raw:
            space = self._spaces.get(name)
            pools[name] = space.to_doc() if space is not None else self._raw[name]
        return {'version': STORE_VERSION, 'pools': pools}
