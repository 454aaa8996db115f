# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""Check mode's view of a store: the store as read, with the run's predicted changes on top, in memory.

``PredictedState`` wraps any ``StoreState`` (a YAML/JSON document, an SQLite
transaction, a store that does not exist yet) and takes every change in memory:
the store underneath is only ever read.  The engine plans on it exactly as on
the store itself, so a check-mode chain (a subnet, a pool in it, addresses)
gets the answers a real run gets.
"""

from __future__ import annotations

from heapq import merge

from .errors import PoolNotFoundError
from .intervals import IntervalSet, without
from .model import PREFIX
from .state import PoolSpace, StoreState


def _joined(streams):
    """Sorted interval streams merged into one, touching intervals joined (as ``occupied_from`` promises)."""
    pending = None
    for first, last in merge(*streams):
        if pending is None:
            pending = [first, last]
        elif first <= pending[1] + 1:
            pending[1] = max(pending[1], last)
        else:
            yield pending[0], pending[1]
            pending = [first, last]
    if pending is not None:
        yield pending[0], pending[1]


class PredictedSpace(PoolSpace):
    """A pool of the store (``base``, None for a pool only predicted) with records added and removed in memory."""

    def __init__(self, base, settings):
        self._base = base
        self.settings = settings
        self._added = {}                # (kind, name) -> Record
        self._removed = {}              # (kind, name) -> Record of the base, released
        self._added_set = IntervalSet()
        self._removed_set = IntervalSet()
        self._settings_changed = base is None

    @property
    def prefixes_take_addresses(self):
        return self._base is None or self._base.prefixes_take_addresses

    def _blocked_now(self):
        return IntervalSet(self.settings.blocked()) if self._settings_changed else IntervalSet()

    def replace_settings(self, settings):
        if not self._settings_changed and self._base is not None:
            # The base's reserved entries and gateway are in its occupied set: take them out once.
            for first, last in self._base.settings.blocked():
                self._removed_set.add(first, last)
        self._settings_changed = True
        self.settings = settings

    def added(self, kind):
        """The records of ``kind`` made in memory."""
        return [record for record in self._added.values() if record.kind == kind]

    def named(self, kind, name):
        key = (kind, name)
        if key in self._added:
            return self._added[key]
        if key in self._removed or self._base is None:
            return None
        return self._base.named(kind, name)

    def occupied_from(self, value):
        streams = [self._added_set.iter_from(value), self._blocked_now().iter_from(value)]
        if self._base is not None:
            streams.append(without(self._base.occupied_from(value), self._removed_set.iter_from))
        # A base interval that reached ``value`` may have lost its end to a release.
        return ((first, last) for first, last in _joined(streams) if last >= value)

    def find_overlapping(self, first, last):
        for record in self._added.values():
            if record.first <= last and first <= record.last:
                return record
        if self._base is None:
            return None
        found = self._base.find_overlapping(first, last)
        if found is None or (found.kind, found.name) not in self._removed:
            return found
        for record in self._base_records():
            if record.first <= last and first <= record.last:
                return record
        return None

    def _base_records(self, kind=None):
        if self._base is None:
            return
        for record in self._base.records(kind):
            if (record.kind, record.name) not in self._removed:
                yield record

    def records(self, kind=None):
        yield from self._base_records(kind)
        for record in self._added.values():
            if kind is None or record.kind == kind:
                yield record

    def count(self, kind):
        base = self._base.count(kind) if self._base is not None else 0
        removed = sum(1 for record_kind, _name in self._removed if record_kind == kind)
        added = sum(1 for record_kind, _name in self._added if record_kind == kind)
        return base - removed + added

    def validate(self):
        if self._base is not None:
            self._base.validate()

    def add(self, record):
        key = (record.kind, record.name)
        self._added[key] = record
        self._added_set.add(record.first, record.last)

    def remove(self, record):
        key = (record.kind, record.name)
        if key in self._added:
            del self._added[key]
            self._added_set.remove(record.first, record.last)
        else:
            self._removed[key] = record
            self._removed_set.add(record.first, record.last)


class PredictedState(StoreState):
    """A store as read (``base``) with pools made, changed and dropped in memory; ``base`` is never written."""

    def __init__(self, base):
        self._base = base
        self._spaces = {}
        self._dropped = set()
        self._unheld_prefixes = {}   # (pool, name) -> Record or None: predicted child prefixes this view does not hold

    def pool_names(self):
        names = set(self._base.pool_names()) - self._dropped
        names.update(self._spaces)
        return sorted(names)

    def space(self, name):
        space = self._spaces.get(name)
        if space is None:
            if name in self._dropped:
                raise self.missing_pool(name)
            try:
                base = self._base.space(name)
            except PoolNotFoundError:
                space = self._prefix_as_pool(name)
                if space is None:
                    raise
            else:
                space = PredictedSpace(base, base.settings)
            self._spaces[name] = space
        return space

    def _prefix_as_pool(self, name):
        """On a server every prefix is a pool: one predicted as an allocation of a pool is one too, as yet empty."""
        settings_of = getattr(self._base, 'prefix_pool_settings', None)
        if settings_of is None:
            return None
        for space in list(self._spaces.values()):
            for record in space.added(PREFIX):
                settings = settings_of(space.settings, record)
                if settings.name == name:
                    return PredictedSpace(self._base.unmade_space(settings), settings)
        for (pool, _name), record in list(self._unheld_prefixes.items()):
            if record is None:
                continue
            try:
                settings = settings_of(self.space(pool).settings, record)
            except PoolNotFoundError:
                continue
            if settings.name == name:
                return PredictedSpace(self._base.unmade_space(settings), settings)
        return None

    def note_prefix(self, pool, name, record):
        """A child prefix predicted in ``pool`` (None: released) that this view does not hold, as an address view
        on a server holds no prefixes: it is still a pool a later task may use."""
        self._unheld_prefixes[(pool, name)] = record

    def missing_pool(self, name):
        return self._base.missing_pool(name)

    @property
    def pools_nest(self):
        return self._base.pools_nest

    def put_pool(self, settings):
        if self.has_pool(settings.name):
            self.space(settings.name).replace_settings(settings)
        else:
            # A server's objects already inside the new pool's CIDR (their occupied set holds its gateway too).
            self._spaces[settings.name] = PredictedSpace(self._base.unmade_space(settings), settings)
            self._dropped.discard(settings.name)

    def delete_pool(self, name):
        self._spaces.pop(name, None)
        self._dropped.add(name)
