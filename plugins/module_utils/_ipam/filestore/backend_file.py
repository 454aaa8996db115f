# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""The ``file`` backend: the engine over a store file on the controller."""

from __future__ import annotations

import contextlib
import gc
import os

from ..core.addresses import parse_address
from ..backend import Backend, BulkOutcome, Outcome, seconds_option
from ..core.bulk import planning_order
from ..core.changes import StoreChange, prediction, predictions_about, replay
from ..core.address_rules import peek_addresses, plan_address, plan_address_release, plan_address_releases, plan_addresses
from ..core.plans import plan_many
from ..core.pool_rules import child_pools, matching_records, plan_pool, plan_pool_removal
from ..core.prefix_rules import peek_prefixes, plan_prefix, plan_prefix_release, plan_prefixes
from ..core.errors import BackendError, InvalidInputError, PoolInUseError
from ..core.model import ADDRESS, PREFIX, pool_view, record_view
from ..options import DEFAULT_LOCK_TIMEOUT
from ..core.overlay import PredictedState

STORE_FORMATS = {'.yml': 'YAML', '.yaml': 'YAML', '.json': 'JSON', '.sqlite': 'SQLite', '.db': 'SQLite'}


@contextlib.contextmanager
def gc_paused():
    """Keep the cyclic garbage collector out of a store load: it would rescan the
    freshly parsed records again and again, and they hold no cycles to collect."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def open_store(path, lock_timeout=DEFAULT_LOCK_TIMEOUT):
    """The store object for ``path``, chosen by its extension."""
    extension = os.path.splitext(path)[1].lower()
    store_format = STORE_FORMATS.get(extension)
    # Imported here: a YAML store never loads sqlite3, an SQLite store never the YAML writer.
    if store_format == 'SQLite':
        from .store_sqlite import SqliteStore as store_class
    elif store_format == 'JSON':
        from .store_document import JsonStore as store_class
    elif store_format == 'YAML':
        from .store_document import YamlStore as store_class
    else:
        raise InvalidInputError('Store %s has an unknown format %r: name it *.yml or *.yaml (YAML), *.json (JSON), '
                                'or *.sqlite or *.db (SQLite)' % (path, extension or '(no extension)'))
    return store_class(path, lock_timeout)


class FileBackend(Backend):
    name = 'file'

    def __init__(self, options):
        super().__init__(options)
        store = options.get('store')
        if not store:
            raise BackendError('The file backend needs a store path: set the "store" option '
                               '(or IPAM_ALLOCATOR_STORE, or [ipam_allocator] store in ansible.cfg for lookups)')
        lock_timeout = seconds_option(options, 'lock_timeout', DEFAULT_LOCK_TIMEOUT)
        self.store = open_store(os.path.expanduser(str(store)), lock_timeout)
        self._key = None

    # -- the one read-plan-apply loop ---------------------------------------------

    def _change(self, operation, check_mode, **arguments):
        """Plan ``operation`` (a ``_plan_<operation>`` factory) and apply it unless in check mode.

        The first pass reads without the lock: check mode, and a rerun that
        changes nothing, never wait for a writer.  A change then takes the lock;
        if the store was written in between, it is read and planned again.  In
        check mode the plan is made on the store with the run's earlier
        predictions on top (``_reading``), and its changes become a prediction.
        """
        plan = getattr(self, '_plan_' + operation)(**arguments)
        with gc_paused():
            return self._run_plan(plan, check_mode)

    def _run_plan(self, plan, check_mode):
        with self._reading() as state:
            outcome, changes = plan(state)
            if check_mode or not outcome.changed:
                if check_mode and outcome.changed:
                    self.predicted.append(prediction(self._store_key, state, changes))
                return outcome
        with self.store.writing(snapshot=state) as transaction:
            if transaction.state is not state:
                outcome, changes = plan(transaction.state)
            if outcome.changed:
                for change in changes:
                    change.apply(transaction.state)
                transaction.commit()
            return outcome

    # -- check mode: the run's predictions, replayed in memory -----------------------

    @property
    def _store_key(self):
        """Which store a prediction is about: one file, whatever path led to it."""
        if self._key is None:
            self._key = 'file %s' % os.path.realpath(self.store.path)
        return self._key

    @contextlib.contextmanager
    def _reading(self, read_only=False):
        """The store as read; in check mode with the predictions of this run's earlier tasks on top, in memory.

        ``read_only``: a pool a hand edit left with two names on one address is a warning
        (both are listed), where anything that may change the store refuses it.
        """
        with self.store.reading() as state:
            if read_only:
                state.warn_of_damage(self.warnings)
            predictions = predictions_about(self._store_key, list(self.pending) + self.predicted)
            if not predictions:
                yield state
                return
            predicted = PredictedState(state)
            for changes in predictions:
                replay(predicted, changes)
            yield predicted

    @staticmethod
    def _record_plan(space, change):
        outcome = Outcome(change.changed, record_view(space.settings, change.before),
                          record_view(space.settings, change.after))
        return outcome, [StoreChange(space.settings.name, change.before, change.after)] if change.changed else []

    @staticmethod
    def _bulk_record_plan(space, requests, changes, extra=()):
        """A BulkOutcome of ``changes`` (one engine Change per request, in order), and the StoreChanges to make."""
        changed = [change.before is not change.after and change.changed for change in changes]
        pool = space.settings.name
        # Made in the order they were planned: a name that moves leaves its address before a new name takes it.
        store_changes = list(extra) + [StoreChange(pool, changes[index].before, changes[index].after)
                                       for index in _planned_order(requests) if changed[index]]
        return _PlannedBulk(space.settings, requests, changes, changed), store_changes

    # -- reading ------------------------------------------------------------------

    def pools(self, name=None):
        with self._reading(read_only=True) as state:
            names = state.pool_names()
            if name is not None:
                names = [name] if name in names else []
            return [pool_view(space.settings, space.used()) for space in map(state.space, names)]

    def allocations(self, pool=None, name=None, address=None):
        value = None
        if address is not None:
            value = parse_address(str(address).split('/', 1)[0])[1]
        with self._reading(read_only=True) as state:
            return [record_view(*found) for found in matching_records(state, ADDRESS, pool, name, value)]

    def peek(self, pool, count=1):
        with self._reading() as state:
            space = state.space(pool)
            return [record_view(space.settings, record) for record in peek_addresses(space, count)]

    # -- pools --------------------------------------------------------------------

    def ensure_pool(self, params, check_mode=False):
        return self._change('ensure_pool', check_mode, params=params)

    def remove_pool(self, name, force=False, check_mode=False):
        return self._change('remove_pool', check_mode, name=name, force=force)

    @staticmethod
    def _plan_ensure_pool(params):
        def plan(state):
            change, settings = plan_pool(state, params)
            before = state.space(settings.name).settings if change.changed and change.before else None
            changes = [StoreChange(settings.name, before, settings)] if change.changed else []
            return Outcome(change.changed, change.before, change.after), changes
        return plan

    @staticmethod
    def _plan_remove_pool(name, force):
        def plan(state):
            change = plan_pool_removal(state, name, force)
            changes = [StoreChange(name, state.space(name).settings, None)] if change.changed else []
            return Outcome(change.changed, change.before, change.after), changes
        return plan

    # -- addresses ----------------------------------------------------------------

    def allocate(self, pool, name, address=None, mac=None, description=None, dns_name=None, check_mode=False):
        return self._change('allocate', check_mode, pool=pool, name=name, address=address, mac=mac,
                            description=description, dns_name=dns_name)

    def release(self, pool, name=None, address=None, check_mode=False):
        return self._change('release', check_mode, pool=pool, name=name, address=address)

    def _plan_allocate(self, pool, name, address, mac, description, dns_name):
        def plan(state):
            space = state.space(pool)
            return self._record_plan(space, plan_address(space, name, address, mac, description, dns_name))
        return plan

    def _plan_release(self, pool, name, address):
        def plan(state):
            space = state.space(pool)
            return self._record_plan(space, plan_address_release(space, name, address))
        return plan

    # -- many names at once: one plan, one lock, one read, one write -------------------

    def bulk_allocate(self, pool, requests, check_mode=False):
        """All of ``requests`` or, raising with the item named, none: planned whole, then written under one lock."""
        return self._change('bulk', check_mode, pool=pool, requests=requests, planner=plan_addresses)

    def bulk_release(self, pool, requests, check_mode=False):
        return self._change('bulk', check_mode, pool=pool, requests=requests, planner=plan_address_releases)

    def _plan_bulk(self, pool, requests, planner):
        def plan(state):
            space = state.space(pool)
            return self._bulk_record_plan(space, requests, planner(space, requests))
        return plan

    # -- prefixes -----------------------------------------------------------------

    def prefixes(self, pool=None, name=None, prefix=None):
        value = None
        if prefix is not None:
            value = parse_address(str(prefix).split('/', 1)[0])[1]
        with self._reading(read_only=True) as state:
            found = [record_view(*found) for found in matching_records(state, PREFIX, pool, name, value)]
        if prefix is not None:
            found = [view for view in found if view['prefix'] == str(prefix)]
        return found

    def peek_prefix(self, pool, prefix_length=None, count=1):
        with self._reading() as state:
            space = state.space(pool)
            return [record_view(space.settings, record) for record in peek_prefixes(space, prefix_length, count)]

    def allocate_prefix(self, pool, name, prefix_length=None, prefix=None, description=None, check_mode=False):
        return self._change('allocate_prefix', check_mode, pool=pool, name=name, prefix_length=prefix_length,
                            prefix=prefix, description=description)

    def release_prefix(self, pool, name=None, prefix=None, force=False, check_mode=False):
        return self._change('release_prefix', check_mode, pool=pool, name=name, prefix=prefix, force=force)

    def _plan_allocate_prefix(self, pool, name, prefix_length, prefix, description):
        def plan(state):
            space = state.space(pool)
            return self._record_plan(space, _prefix_change(state, space, name, prefix_length, prefix, description))
        return plan

    def _plan_release_prefix(self, pool, name, prefix, force):
        def plan(state):
            space = state.space(pool)
            change, dropped = _prefix_release_change(state, space, name, prefix, force)
            outcome, changes = self._record_plan(space, change)
            return outcome, dropped + changes
        return plan

    def bulk_allocate_prefix(self, pool, requests, check_mode=False):
        return self._change('bulk_prefix', check_mode, pool=pool, requests=requests)

    def bulk_release_prefix(self, pool, requests, force=False, check_mode=False):
        return self._change('bulk_prefix_release', check_mode, pool=pool, requests=requests, force=force)

    def _plan_bulk_prefix(self, pool, requests):
        def plan(state):
            space = state.space(pool)
            return self._bulk_record_plan(space, requests, plan_prefixes(space, requests, lambda view, request: _prefix_change(
                state, view, request.name, request.prefix_length, request.prefix, request.description)))
        return plan

    def _plan_bulk_prefix_release(self, pool, requests, force):
        def plan(state):
            space = state.space(pool)
            dropped = []

            def release_one(view, request):
                change, children = _prefix_release_change(state, view, request.name, request.prefix, force)
                dropped.extend(children)
                return change
            changes = plan_many(space, requests, release_one)
            return self._bulk_record_plan(space, requests, changes, extra=dropped)
        return plan


def _planned_order(requests):
    """Indexes of ``requests`` in ``bulk.planning_order``."""
    index_of = {request.position: index for index, request in enumerate(requests)}
    return [index_of[request.position] for request in planning_order(requests)]


class _PlannedBulk(BulkOutcome):
    """A BulkOutcome whose record views are made when first read.

    A real run plans on a lock-free read first and plans again when the store changed
    before it took the lock (an SQLite store is always read again): views of ten thousand
    records are made once, from the plan that was written.
    """

    __slots__ = ('_settings', '_requests', '_changes', '_changed', '_outcomes')

    def __init__(self, settings, requests, changes, changed):
        super().__init__(None)
        self._settings = settings
        self._requests = requests
        self._changes = changes
        self._changed = changed
        self._outcomes = None

    @property
    def changed(self):
        return any(self._changed)

    @property
    def outcomes(self):
        if self._outcomes is None:
            settings = self._settings
            outcomes = {}
            for request, change, is_changed in zip(self._requests, self._changes, self._changed):
                if is_changed:
                    outcomes[request.name] = Outcome(True, record_view(settings, change.before), record_view(settings, change.after))
                else:
                    view = record_view(settings, change.before)
                    outcomes[request.name] = Outcome(False, view, view)
            self._outcomes = outcomes
        return self._outcomes

    @outcomes.setter
    def outcomes(self, value):
        self._outcomes = value


def _prefix_change(state, space, name, prefix_length, prefix, description):
    """The engine's plan for one prefix, refused when it would move a prefix that a pool was made from."""
    change = plan_prefix(space, name, prefix_length, prefix, description)
    moves = change.before is not None and (change.before.first, change.before.last) != (change.after.first, change.after.last)
    carved = [child for child, _in_use in child_pools(state, space.settings.name, change.before)] if moves else []
    if carved:
        raise PoolInUseError('Prefix %s of pool %r is pool %s, which cannot move with it: release the prefix '
                             '(force: true removes that pool) before asking for %s' % (
                                 record_view(space.settings, change.before)['prefix'], space.settings.name,
                                 ', '.join(map(repr, carved)), prefix))
    return change


def _prefix_release_change(state, space, name, prefix, force):
    """The engine's release of one prefix, and the StoreChanges dropping the pools made from it (with ``force``)."""
    change = plan_prefix_release(space, name, prefix)
    pool = space.settings.name
    children = child_pools(state, pool, change.before) if change.before is not None else []
    busy = [child for child, in_use in children if in_use]
    if busy and not force:
        raise PoolInUseError('Prefix %s of pool %r is pool %s, which still holds allocations; '
                             'release them first or set force: true' % (
                                 record_view(space.settings, change.before)['prefix'], pool, ', '.join(map(repr, busy))))
    return change, [StoreChange(child, state.space(child).settings, None) for child, _in_use in children]
