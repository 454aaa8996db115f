# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""What a planned operation does to a store, as data: applied by a real run, recorded by check mode.

An operation (``ip_pool``, ``ip_address``, ...) is planned into a list of ``StoreChange``:
a pool's settings made, replaced or dropped, or one record of a pool made, moved or
released.  A real run applies the list to the store under its lock.  Check mode
applies nothing and keeps the list as a prediction (``to_doc``); the run's later
check-mode tasks replay the predictions on an in-memory overlay of the store
(``overlay.PredictedState``), so they answer as the real run would.  The change
replayed is the one the user was shown, not the operation planned again.
"""

from __future__ import annotations

from .errors import IpamError
from .model import ADDRESS, PREFIX, PoolSettings, Record

_KINDS = (ADDRESS, PREFIX)


class StoreChange:
    """One change of a pool: ``before``/``after`` are PoolSettings (the pool itself) or Records (None: absent)."""

    __slots__ = ('pool', 'before', 'after')

    def __init__(self, pool, before, after):
        self.pool = pool
        self.before = before
        self.after = after

    @property
    def of_pool(self):
        return isinstance(self.before or self.after, PoolSettings)

    def apply(self, state):
        """Make the planned change (the plan was made on this state, so it fits)."""
        if self.of_pool:
            if self.after is None:
                state.delete_pool(self.pool)
            else:
                state.put_pool(self.after)
            return
        space = state.space(self.pool)
        if self.before is not None:
            space.remove(self.before)
        if self.after is not None:
            space.add(self.after)

    def to_doc(self, version=None):
        """A JSON-able prediction; records need the pool's IP ``version``."""
        if self.of_pool:
            return {'pool': self.pool, 'settings': None if self.after is None else self.after.to_doc()}
        record = self.after or self.before
        return {'pool': self.pool, 'kind': record.kind, 'name': record.name,
                'after': None if self.after is None else self.after.to_doc(version)}


def prediction(target, state, changes):
    """The prediction of ``changes`` (planned on ``state``) about ``target`` (a store or server), as JSON-able data."""
    docs = []
    for change in changes:
        version = None if change.of_pool else state.space(change.pool).settings.version
        docs.append(change.to_doc(version))
    return {'target': target, 'changes': docs}


def predictions_about(target, steps):
    """The change lists of ``steps`` (a run's predictions) that are about ``target``, in the order they were made."""
    return [step['changes'] for step in steps
            if isinstance(step, dict) and step.get('target') == target and isinstance(step.get('changes'), list)]


def replay(state, docs, kinds=None):
    """Apply predictions (``StoreChange.to_doc`` dicts) to ``state``, an overlay: what no longer fits is skipped.

    The store may have changed since a prediction was made (another controller wrote it),
    so each one is checked against the state as it is now: a record whose place was
    taken meanwhile is not replayed, and neither is a change of a pool that is gone.
    ``kinds`` limits the record changes replayed (pools' changes always are).
    """
    for doc in docs:
        if kinds is not None and 'kind' in doc and doc['kind'] not in kinds:
            if doc['kind'] == PREFIX:
                _note_prefix(state, doc)
            continue
        try:
            _replay_one(state, doc)
        except (IpamError, KeyError, TypeError, ValueError):
            continue


def _note_prefix(state, doc):
    """A prefix change the state does not replay still tells it of a pool to come (on a server, a prefix is one)."""
    try:
        after = None
        if doc['after'] is not None:
            after = Record.from_doc(PREFIX, doc['after'], state.space(doc['pool']).settings.network)
        state.note_prefix(doc['pool'], doc['name'], after)
    except (IpamError, KeyError, TypeError, ValueError):
        pass    # a change that no longer fits, as in _replay_one


def _replay_one(state, doc):
    pool = doc['pool']
    if 'settings' in doc:
        if doc['settings'] is None:
            if state.has_pool(pool):
                state.delete_pool(pool)
        else:
            state.put_pool(PoolSettings.from_doc(pool, doc['settings']))
        return
    kind, name = doc['kind'], doc['name']
    if kind not in _KINDS:
        raise KeyError(kind)
    space = state.space(pool)
    current = space.named(kind, name)
    after = None if doc['after'] is None else Record.from_doc(kind, doc['after'], space.settings.network)
    if after is not None and after.name != name:
        raise KeyError(name)
    if current is not None:
        space.remove(current)
    if after is not None:
        if space.is_free(after.first, after.last) and _allowed(space.settings, after):
            space.add(after)
        elif current is not None:
            space.add(current)


def _allowed(settings, record):
    """A replayed address still obeys the pool's rules (its settings may have changed since)."""
    if record.kind != ADDRESS:
        return settings.network.contains_block(record.first, record.last)
    return settings.allowed_for_address(record.first) is None
