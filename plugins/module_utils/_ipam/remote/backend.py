# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""The ``netbox`` and ``nautobot`` backends: the engine's rules over the server's view, and the server's steps.

Every operation reads the server through a view (remote/view.py), in check mode with
the run's predictions on top (overlay.PredictedState, as on a file store), and asks the
engine (engine.py) what it changes.  Check mode records that change as a prediction;
a real run makes it with the server's own steps (remote/writes.py):

- a new name with no address asked for takes the next address from the server's
  atomic ``POST .../available-ips/`` (its IP ranges in order, on NetBox): the lowest
  free, the engine's rule, which the answer is checked against;
- an address or prefix the engine chose (a specific one, a move, a best-fit prefix) is
  created at that place, the server's uniqueness and a look at its neighbours guarding
  against another task taking it at the same time;
- a rename of fields is a PATCH, a release a DELETE of the object this collection made.

Many names in one task go through remote/bulk.py: one list request, one bulk POST.
"""

from __future__ import annotations

import os

from ..backend import Backend, Outcome, seconds_option
from ..core.changes import StoreChange, prediction, predictions_about, replay
from ..core.engine import (
    matching_records,
    parent_prefix_allocated,
    peek_addresses,
    peek_prefixes,
    plan_address,
    plan_address_release,
    plan_pool,
    plan_pool_removal,
    plan_prefix,
    plan_prefix_release,
    pool_request,
    with_fields,
)
from ..core.addresses import format_block
from ..core.errors import BackendError, ConflictError, InvalidInputError, PoolInUseError, PoolNotFoundError
from .http import HttpClient
from ..core.model import ADDRESS, PREFIX, PoolSettings, Record, pool_view, record_view
from ..options import DEFAULT_TIMEOUT, env_name
from ..core.overlay import PredictedState
from .redact import normalized_token, scrubbed
from .dialects import NautobotDialect, NetboxDialect
from .names import NameCodec
from .pools import Pools
from .bulk import RemoteBulk
from .server import RACE_ATTEMPTS, Server, address_value
from .view import RemoteState
from .writes import PrefixTaken, Writer

# ip_pool options a pool (a prefix on the server) has nowhere to keep.
_NOT_KEPT = ('reserved', 'min_prefix_length', 'max_prefix_length', 'default_prefix_length')


def _env(*names):
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


def _trimmed(text):
    """Free text as the servers keep it: without white space around it (an empty string still clears)."""
    return text.strip() if isinstance(text, str) else text


class RemoteBackend(Backend):
    """The backend interface over a NetBox-like REST API; ``dialect_class`` speaks the server's dialect."""

    dialect_class = None

    def __init__(self, options):
        super().__init__(options)
        dialect = self.dialect_class(options)
        url = options.get('url') or _env(env_name('url'), dialect.url_env)
        token = normalized_token(options.get('token') or _env(env_name('token'), dialect.token_env) or '',
                                 dialect.product)
        if not url:
            raise BackendError('The %s backend needs the server address: set the "url" option (or %s or %s)' % (
                self.name, env_name('url'), dialect.url_env))
        if not token:
            raise BackendError('The %s backend needs an API token: set the "token" option (or %s or %s)'
                               % (self.name, env_name('token'), dialect.token_env))
        timeout = seconds_option(options, 'timeout', DEFAULT_TIMEOUT, zero_allowed=False)
        names = NameCodec(options.get('key_field'), self.name, dialect.prefixes_filter_by_description)
        validate_certs = options.get('validate_certs')
        self.http = HttpClient(url, token, dialect.auth_scheme(token),
                               validate_certs=True if validate_certs is None else validate_certs,
                               ca_path=options.get('ca_path'), timeout=timeout, product=dialect.product)
        self.server = Server(self.http, dialect, names)
        self.pool_reader = Pools(self.server, self.name)
        self.writer = Writer(self.server)
        self._bulk = RemoteBulk(self, self.writer)
        self._warnings.extend(self.http.warnings)     # plain http to another host
        self._target = '%s %s %s' % (self.name, self.http.base, dialect.scope_text())
        self._view = None

    @property
    def product(self):
        return self.server.product

    def close(self):
        self.http.close()

    @property
    def warnings(self):
        # Like errors, warnings quote what the server holds.
        return [self.http.scrub(text) for text in self._warnings + self.server.warnings]

    # -- the server's view, with the run's predictions in check mode ---------------------

    def state(self, kind, writing=False):
        """The view of ``kind``; unless ``writing``, with the run's predictions on top (they only exist in check mode).

        Only a real change writes: a read, or check mode, finding two objects for one name says so and deletes nothing.
        """
        self.server.checking = not writing
        state = self._view = RemoteState(self.server, self.pool_reader, kind)
        steps = [] if writing else predictions_about(self._target, list(self.pending) + self.predicted)
        if not steps:
            return state
        # A replayed change looks its name up: one request per pool and kind reads every name first.
        for pool, record_kind in sorted({(doc['pool'], doc['kind']) for changes in steps for doc in changes
                                         if isinstance(doc, dict) and doc.get('kind') in (ADDRESS, PREFIX)
                                         and (kind is None or doc['kind'] == kind)}, key=str):
            self.preload(pool, record_kind)
        predicted = PredictedState(state)
        for changes in steps:
            replay(predicted, changes, kinds=None if kind is None else (kind,))
        return predicted

    def preload(self, pool, kind):
        """Every named object of ``kind`` in ``pool`` read at once (bulk work, replays), if the pool is on the server."""
        try:
            self._view.space(pool).preload_names(kind)
        except (InvalidInputError, PoolNotFoundError):
            pass    # a pool only predicted (or no pool at all: the operation says so)

    def predict(self, state, changes):
        self.predicted.append(prediction(self._target, state, changes))

    # -- reading ----------------------------------------------------------------------------

    @scrubbed
    def pools(self, name=None):
        state = self.state(ADDRESS)
        if name is not None:
            cidr = self.pool_reader.network(name).text()
            names = [cidr] if state.has_pool(cidr) else []
        else:
            names = state.pool_names()
        views = []
        for space in map(state.space, names):
            views.append(pool_view(space.settings, space.used()))
        views.sort(key=lambda view: (':' in view['cidr'], self.pool_reader.network(view['cidr']).first,
                                     self.pool_reader.network(view['cidr']).prefix_length))
        return views

    @scrubbed
    def allocations(self, pool=None, name=None, address=None):
        value = None
        if address is not None:
            value = address_value(str(address))
        return self._views(ADDRESS, pool, name, value)

    @scrubbed
    def prefixes(self, pool=None, name=None, prefix=None):
        value = None
        if prefix is not None:
            value = address_value(str(prefix))
        found = self._views(PREFIX, pool, name, value)
        if prefix is not None:
            found = [view for view in found if view['prefix'] == str(prefix)]
        return found

    def _views(self, kind, pool, name, value):
        state = self.state(kind)
        if pool is not None:
            pool = self.pool_reader.network(pool).text()
        found = matching_records(state, kind, pool, name, value)
        found.sort(key=lambda item: (item[0].network.version, item[0].network.first, item[0].network.prefix_length,
                                     item[1].first))
        return [record_view(*item) for item in found]

    @scrubbed
    def peek(self, pool, count=1):
        space = self.state(ADDRESS).space(pool)
        return [record_view(space.settings, record) for record in peek_addresses(space, count)]

    @scrubbed
    def peek_prefix(self, pool, prefix_length=None, count=1):
        space = self.state(PREFIX).space(pool)
        return [record_view(space.settings, record) for record in peek_prefixes(space, prefix_length, count)]

    # -- addresses ----------------------------------------------------------------------------

    @scrubbed
    def allocate(self, pool, name, address=None, mac=None, description=None, dns_name=None, check_mode=False):
        state = self.state(ADDRESS, writing=not check_mode)
        space = state.space(pool)
        name = self.server.names.check(name)
        description, dns_name = _trimmed(description), _trimmed(dns_name)
        if not check_mode and address is None and mac is None and space.named(ADDRESS, name) is None:
            return self._allocate_next(space, name, description, dns_name)
        change = plan_address(space, name, address, mac, description, dns_name)
        return self._make(state, space, change, check_mode)

    @scrubbed
    def release(self, pool, name=None, address=None, check_mode=False):
        state = self.state(ADDRESS, writing=not check_mode)
        space = state.space(pool)
        change = plan_address_release(space, None if name is None else self.server.names.check(name), address)
        return self._make(state, space, change, check_mode)

    def _allocate_next(self, space, name, description, dns_name):
        """The server's atomic step: POST available-ips of the prefix (or of its IP ranges, in order)."""
        fields = with_fields(Record(ADDRESS, name, 0, 0), description, dns_name)
        obj = self.writer.allocate_next(space, name, fields.description, fields.dns_name)
        return Outcome(True, None, record_view(space.settings, self.server.record(ADDRESS, obj, name, ours=True)))

    # -- one engine Change, predicted or made ---------------------------------------------------

    def _make(self, state, space, change, check_mode):
        settings = space.settings
        outcome = Outcome(change.changed, record_view(settings, change.before), record_view(settings, change.after))
        if not change.changed:
            return outcome
        if check_mode:
            self.predict(state, [StoreChange(settings.name, change.before, change.after)])
            return outcome
        after = self.writer.write(space, change)
        return Outcome(True, outcome.before, record_view(settings, after))

    # -- many names: one list request for the names held, one bulk POST for the new ones ----------

    # -- many names: one list request for the names held, one bulk POST for the new ones (remote/bulk.py) ---------

    @scrubbed
    def bulk_allocate(self, pool, requests, check_mode=False):
        return self._bulk.allocate(pool, requests, check_mode)

    @scrubbed
    def bulk_release(self, pool, requests, check_mode=False):
        return self._bulk.release(pool, requests, check_mode)

    @scrubbed
    def bulk_allocate_prefix(self, pool, requests, check_mode=False):
        return self._bulk.allocate_prefixes(pool, requests, check_mode)

    # -- prefixes -------------------------------------------------------------------------------

    @scrubbed
    def allocate_prefix(self, pool, name, prefix_length=None, prefix=None, description=None, check_mode=False):
        name = self.server.names.check(name)
        for _attempt in range(RACE_ATTEMPTS):
            state = self.state(PREFIX, writing=not check_mode)
            space = state.space(pool)
            change = plan_prefix(space, name, prefix_length, prefix, _trimmed(description))
            try:
                return self._make(state, space, change, check_mode)
            except PrefixTaken as exc:
                if prefix is not None:
                    raise ConflictError('Cannot allocate %s to %r in pool %r: %s took it at the same time' % (
                        prefix, name, space.settings.name, exc)) from None
                self.pool_reader.forget(space.settings.name)
        raise BackendError('%s kept making prefixes of pool %s for other tasks while this one chose (%d attempts): rerun '
                           'the task' % (self.product, pool, RACE_ATTEMPTS))

    @scrubbed
    def release_prefix(self, pool, name=None, prefix=None, force=False, check_mode=False):
        state = self.state(PREFIX, writing=not check_mode)
        space = state.space(pool)
        change = plan_prefix_release(space, None if name is None else self.server.names.check(name), prefix)
        if change.before is None:
            return Outcome(False, None, None)
        cidr = record_view(space.settings, change.before)['prefix']
        inner = self.state(None, writing=not check_mode)
        addresses = prefixes = 0
        if inner.has_pool(cidr):    # the prefix as a pool: what lies in it, as the run has it so far
            inner_space = inner.space(cidr)
            addresses, prefixes = inner_space.count(ADDRESS), inner_space.count(PREFIX)
        if (addresses or prefixes) and not force:
            raise PoolInUseError('Prefix %s of pool %r holds %d IP address(es) and %d prefix(es); release them first '
                                 'or set force: true' % (cidr, space.settings.name, addresses, prefixes))
        outcome = Outcome(True, record_view(space.settings, change.before), None)
        if check_mode:
            changes = [StoreChange(space.settings.name, change.before, None)]
            if inner.has_pool(cidr):
                changes.insert(0, StoreChange(cidr, inner.space(cidr).settings, None))
            self.predict(state, changes)
            return outcome
        if force:
            self.server.delete_ours_in(cidr)
        self.server.delete(PREFIX, space.object_of(PREFIX, change.before.name)[0])
        self.pool_reader.forget(cidr)
        return outcome

    # -- pools ----------------------------------------------------------------------------------

    def _pool_params(self, params):
        """``ip_pool`` options as a server keeps them: the pool is its CIDR; what it cannot keep is refused."""
        network = self.pool_reader.network(params['cidr'] if params.get('cidr') is not None else params.get('name'))
        cidr = network.text()
        given = params.get('name')
        if given is not None and (not isinstance(given, str) or '/' not in given or self.pool_reader.network(given).text() != cidr):
            raise InvalidInputError('On the %s backend a pool is the prefix named by its CIDR: set name to %s (the same as '
                                    'cidr)' % (self.name, cidr))
        for key in _NOT_KEPT if self.server.dialect.ip_ranges else ('ranges',) + _NOT_KEPT:
            if params.get(key) not in (None, [], '', ()):
                raise InvalidInputError('%s is not supported by the %s backend, where a pool is a whole prefix%s: drop it, and '
                                        'use %s itself (reserved IP addresses) to keep addresses out' % (
                                            key, self.name, '' if self.server.dialect.ip_ranges else
                                            ' (%s has no IP ranges)' % self.product, self.product))
        wanted = dict(params, name=cidr, cidr=cidr, parent=None, description=_trimmed(params.get('description')))
        ranges = wanted.get('ranges')
        if ranges:
            # The server lists IP ranges lowest first, and cannot hold one of a single address.
            parsed = PoolSettings.from_params(cidr, cidr, ranges=ranges)
            for first, last in parsed.ranges:
                if first == last:
                    raise InvalidInputError('Range %s of pool %s is a single address, which %s cannot hold as an IP range: '
                                            'give a range of two addresses or more' % (
                                                format_block(parsed.version, first, last), cidr, self.product))
            wanted['ranges'] = [format_block(parsed.version, first, last) for first, last in sorted(parsed.ranges)]
        for key in _NOT_KEPT:
            wanted.pop(key, None)
        return cidr, wanted

    @scrubbed
    def ensure_pool(self, params, check_mode=False):
        cidr, wanted = self._pool_params(params)
        state = self.state(None, writing=not check_mode)
        if params.get('parent') is not None:
            parent = self.pool_reader.network(params['parent']).text()
            if not state.has_pool(parent):
                raise state.missing_pool(parent)
            settings = PoolSettings.from_params(**pool_request(wanted, None))
            settings.parent = parent
            if not parent_prefix_allocated(state, settings):
                raise InvalidInputError('Pool %s names parent %s, but it is not a prefix allocated in %s; allocate it with '
                                        'ipam.allocator.ip_prefix first' % (cidr, parent, parent))
        change, settings = plan_pool(state, wanted)
        outcome = Outcome(change.changed, change.before, change.after)
        if not change.changed:
            return outcome
        current = state.space(cidr).settings if change.before else None
        if check_mode:
            self.predict(state, [StoreChange(cidr, current, settings)])
            return outcome
        pool = self.pool_reader.read(cidr)
        if pool is None:
            self.pool_reader.create(settings)
        else:
            self.pool_reader.update(pool, settings)
        return outcome

    @scrubbed
    def remove_pool(self, name, force=False, check_mode=False):
        cidr = self.pool_reader.network(name).text()
        state = self.state(None, writing=not check_mode)
        change = plan_pool_removal(state, cidr, force)
        outcome = Outcome(change.changed, change.before, change.after)
        if not change.changed:
            return outcome
        if check_mode:
            self.predict(state, [StoreChange(cidr, state.space(cidr).settings, None)])
            return outcome
        self.pool_reader.remove(self.pool_reader.read(cidr), force)
        return outcome


class NetboxBackend(RemoteBackend):
    """NetBox 4.x through its REST API."""

    name = 'netbox'
    dialect_class = NetboxDialect


class NautobotBackend(RemoteBackend):
    """Nautobot 2.x and 3.x through its REST API."""

    name = 'nautobot'
    dialect_class = NautobotDialect
