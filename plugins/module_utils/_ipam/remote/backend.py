# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""The ``netbox`` and ``nautobot`` backends: the engine's rules over the server's view, and the server's steps.

Every operation reads the server through a view (remote/view.py), in check mode with
the run's predictions on top (overlay.PredictedState, as on a file store), and asks the
engine (engine.py) what it changes.  Check mode records that change as a prediction;
a real run makes it with the server's own steps:

- a new name with no address asked for takes the next address from the server's
  atomic ``POST .../available-ips/`` (its IP ranges in order, on NetBox): the lowest
  free, the engine's rule, which the answer is checked against;
- an address or prefix the engine chose (a specific one, a move, a best-fit prefix) is
  created at that place, the server's uniqueness and a look at its neighbours guarding
  against another task taking it at the same time;
- a rename of fields is a PATCH, a release a DELETE of the object this collection made.
"""

from __future__ import annotations

import os

from ..backend import Backend, BulkOutcome, Outcome, seconds_option
from ..changes import StoreChange, prediction, predictions_about, replay
from ..bulk import for_item, planning_order
from ..engine import (
    exhausted_error,
    matching_records,
    parent_prefix_allocated,
    peek_addresses,
    peek_prefixes,
    plan_address,
    plan_address_release,
    plan_address_releases,
    plan_addresses,
    plan_pool,
    plan_pool_removal,
    plan_prefix,
    plan_prefix_release,
    plan_prefixes,
    pool_request,
    with_fields,
)
from ..addresses import format_block, parse_address
from ..errors import BackendError, ConflictError, InvalidInputError, IpamError, PoolInUseError, PoolNotFoundError
from .http import HttpClient, HttpError
from ..model import ADDRESS, PREFIX, PoolSettings, Record, pool_view, record_view
from ..options import DEFAULT_TIMEOUT
from ..overlay import PredictedState
from .redact import normalized_token, scrubbed
from .objects import IPS, PREFIXES
from .dialects import NautobotDialect, NetboxDialect
from .names import NameCodec
from .pools import Pools
from .server import PATHS, RACE_ATTEMPTS, Server, address_value
from .view import RemoteState

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


def _place(settings, record):
    """The address (with the pool's length) or prefix of ``record``, as the server writes it."""
    if record.kind == ADDRESS:
        return '%s/%d' % (record_view(settings, record)['address'], settings.network.prefix_length)
    return record_view(settings, record)['prefix']


class _PrefixTaken(Exception):
    """Another task made an overlapping prefix at the same time: plan again."""


class _PoolFilled(Exception):
    """The server refused a bulk POST as more than it has free: another task took addresses since the read."""


class RemoteBackend(Backend):
    """The backend interface over a NetBox-like REST API; ``dialect_class`` speaks the server's dialect."""

    dialect_class = None

    def __init__(self, options):
        super().__init__(options)
        dialect = self.dialect_class(options)
        url = options.get('url') or _env('IPAM_ALLOCATOR_URL', dialect.url_env)
        token = normalized_token(options.get('token') or _env('IPAM_ALLOCATOR_TOKEN', dialect.token_env) or '',
                                 dialect.product)
        if not url:
            raise BackendError('The %s backend needs the server address: set the "url" option (or %s)' % (
                self.name, dialect.url_env))
        if not token:
            raise BackendError('The %s backend needs an API token: set the "token" option (or IPAM_ALLOCATOR_TOKEN or %s)'
                               % (self.name, dialect.token_env))
        timeout = seconds_option(options, 'timeout', DEFAULT_TIMEOUT, zero_allowed=False)
        names = NameCodec(options.get('key_field'), self.name, dialect.prefixes_filter_by_description)
        validate_certs = options.get('validate_certs')
        self.http = HttpClient(url, token, dialect.auth_scheme(token),
                               validate_certs=True if validate_certs is None else validate_certs,
                               ca_path=options.get('ca_path'), timeout=timeout, product=dialect.product)
        self.server = Server(self.http, dialect, names)
        self.pool_reader = Pools(self.server, self.name)
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

    def _state(self, kind, writing=False):
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
            self._preload(pool, record_kind)
        predicted = PredictedState(state)
        for changes in steps:
            replay(predicted, changes, kinds=None if kind is None else (kind,))
        return predicted

    def _preload(self, pool, kind):
        """Every named object of ``kind`` in ``pool`` read at once (bulk work, replays), if the pool is on the server."""
        try:
            self._view.space(pool).preload_names(kind)
        except (InvalidInputError, PoolNotFoundError):
            pass    # a pool only predicted (or no pool at all: the operation says so)

    def _predict(self, state, changes):
        self.predicted.append(prediction(self._target, state, changes))

    # -- reading ----------------------------------------------------------------------------

    @scrubbed
    def pools(self, name=None):
        state = self._state(ADDRESS)
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
        state = self._state(kind)
        if pool is not None:
            pool = self.pool_reader.network(pool).text()
        found = matching_records(state, kind, pool, name, value)
        found.sort(key=lambda item: (item[0].network.version, item[0].network.first, item[0].network.prefix_length,
                                     item[1].first))
        return [record_view(*item) for item in found]

    @scrubbed
    def peek(self, pool, count=1):
        space = self._state(ADDRESS).space(pool)
        return [record_view(space.settings, record) for record in peek_addresses(space, count)]

    @scrubbed
    def peek_prefix(self, pool, prefix_length=None, count=1):
        space = self._state(PREFIX).space(pool)
        return [record_view(space.settings, record) for record in peek_prefixes(space, prefix_length, count)]

    # -- addresses ----------------------------------------------------------------------------

    @scrubbed
    def allocate(self, pool, name, address=None, mac=None, description=None, dns_name=None, check_mode=False):
        state = self._state(ADDRESS, writing=not check_mode)
        space = state.space(pool)
        name = self.server.names.check(name)
        description, dns_name = _trimmed(description), _trimmed(dns_name)
        if not check_mode and address is None and mac is None and space.named(ADDRESS, name) is None:
            return self._allocate_next(space, name, description, dns_name)
        change = plan_address(space, name, address, mac, description, dns_name)
        return self._make(state, space, change, check_mode)

    @scrubbed
    def release(self, pool, name=None, address=None, check_mode=False):
        state = self._state(ADDRESS, writing=not check_mode)
        space = state.space(pool)
        change = plan_address_release(space, None if name is None else self.server.names.check(name), address)
        return self._make(state, space, change, check_mode)

    def _allocate_next(self, space, name, description, dns_name):
        """The server's atomic step: POST available-ips of the prefix (or of its IP ranges, in order)."""
        fields = with_fields(Record(ADDRESS, name, 0, 0), description, dns_name)
        body = self.server.new_body(ADDRESS, name, fields.description, fields.dns_name)
        for path in space.pool.available_ips_paths():
            obj = self._allocate_next_at(path, space.pool, name, body)
            if obj is not None:
                after = self.server.record(ADDRESS, obj, name, ours=True)
                return Outcome(True, None, record_view(space.settings, after))
        raise exhausted_error(space)

    def _allocate_next_at(self, path, pool, name, body):
        """The object ``name`` holds once the server made it at ``path``, or None when that prefix or range is full."""
        server = self.server
        set_aside = {}      # address -> the placeholder this task made of it
        while True:         # ends: an address is set aside once; offered again, it is refused
            obj = server.create_next(path, body, lambda: server.find(ADDRESS, pool, name), 'the address of %r' % name, IPS,
                                     'the next address of pool %s' % pool.cidr)
            if obj is None:
                return None
            value = address_value(obj['address'])
            reason = self._refused_offer(path, pool, obj, value, set_aside)
            if reason is None:
                return server.confirmed(ADDRESS, pool, name)
            self._set_aside(obj, reason)
            set_aside[value] = obj

    def _refused_offer(self, path, pool, obj, value, set_aside):
        """None when the address the server made is one the engine's rules allow; why not when it is one the server
        may rightly offer but the rules keep free (the network or broadcast address, IPv6's subnet-router anycast
        address).  Anything else breaks the server's contract: what this task made (that object, and the placeholders
        of ``set_aside``) is deleted, so a failed task leaves the server as it was, and the error says what came."""
        network = pool.network
        version = parse_address(obj['address'].split('/', 1)[0])[0]
        if version != network.version:
            broken = 'not IPv%d like the pool' % network.version
        elif not obj['address'].endswith('/%d' % network.prefix_length):
            broken = 'not of the prefix length of the pool (/%d)' % network.prefix_length
        else:
            reason = pool.settings.allowed_for_address(value)
            low, high = network.usable_bounds()
            if reason is None or (value in network and not low <= value <= high and value not in set_aside):
                return reason
            broken = 'offered again after it was kept free' if value in set_aside else reason
        for made in [obj] + list(set_aside.values()):
            self.server.delete(ADDRESS, made)
        raise BackendError('%s answered POST /%s with %s, which is %s: the server does not allocate from pool %s as its API '
                           'says. What this task made was deleted and nothing is allocated; check the prefix and its IP '
                           'ranges in %s' % (self.product, path, obj['address'], broken, pool.cidr, self.product))

    def _set_aside(self, obj, reason):
        """The server offered an address the rules keep free (Nautobot: IPv6's subnet-router anycast address): keep it
        as a reserved placeholder, not an allocation, so neither the server nor the engine offers it again."""
        body = dict(self.server.dialect.reserved_fields(), tags=[], description='kept free by ipam.allocator: %s' % reason)
        if self.server.names.key_field is not None:
            body['custom_fields'] = {self.server.names.key_field: None}
        self.server.http.patch('%s%s/' % (IPS, obj['id']), body)

    # -- one engine Change, predicted or made ---------------------------------------------------

    def _make(self, state, space, change, check_mode):
        settings = space.settings
        outcome = Outcome(change.changed, record_view(settings, change.before), record_view(settings, change.after))
        if not change.changed:
            return outcome
        if check_mode:
            self._predict(state, [StoreChange(settings.name, change.before, change.after)])
            return outcome
        after = self._write(space, change)
        return Outcome(True, outcome.before, record_view(settings, after))

    def _write(self, space, change):
        """Make ``change`` (of one record of ``space``) on the server; the record as the server then holds it."""
        server, before, after = self.server, change.before, change.after
        kind = (before or after).kind
        held = space.object_of(kind, before.name) if before is not None else None
        if after is None:
            server.delete(kind, held[0])
            return None
        if before is None:
            return self._create_at(space, after)
        if (before.first, before.last) != (after.first, after.last):
            return self._move(space, held[0], after)
        body = server.names.fields(after.name, after.description)
        if kind == ADDRESS:
            body['dns_name'] = after.dns_name or ''
        server.patch(kind, held[0], body)
        return after

    def _create_at(self, space, record, replaces=None):
        """Make ``record`` at its place; the server's uniqueness (and, for a prefix, a look at its neighbours) guards it."""
        server, pool, kind = self.server, space.pool, record.kind
        place = _place(space.settings, record)
        body = server.new_body(kind, record.name, record.description, record.dns_name)
        body.update(server.dialect.scope_fields())
        body['address' if kind == ADDRESS else 'prefix'] = place

        def landed():
            found = [obj for obj in server.ours_in(kind, pool, record.name) if obj is not replaces
                     and (replaces is None or obj['id'] != replaces['id'])]
            return server.one_per_name(kind, pool, record.name, found)
        try:
            made = server.create(PATHS[kind], body, landed,
                                 'the %s of %r' % ('address' if kind == ADDRESS else 'prefix', record.name), PATHS[kind])
        except HttpError as exc:
            holder = self._holder_of(kind, place) if exc.status == 400 else None
            if holder is None:
                raise
            raise ConflictError('Cannot allocate %s to %r in pool %r: it is already held by %s. Release it first or ask '
                                'for another place.' % (place.split('/')[0] if kind == ADDRESS else place, record.name,
                                                        pool.cidr, holder)) from None
        if made is not None and server.record(kind, made, ours=True).first != record.first \
                or made is not None and server.record(kind, made, ours=True).last != record.last:
            # An answer that breaks the API's contract: undo it, and say what came.
            server.delete(kind, made)
            raise BackendError('%s answered POST /%s for %s with %s: the server does not make objects as its API says. '
                               'What it made was deleted and nothing is allocated' % (
                                   self.product, PATHS[kind], place, made.get('address') or made.get('prefix')))
        if replaces is not None:
            server.delete(kind, replaces)
        held = server.confirmed(kind, pool, record.name)
        made = server.record(kind, held, record.name, ours=True)
        if (made.first, made.last) != (record.first, record.last):
            raise ConflictError('Cannot allocate %s to %r in pool %r: another task gave %r %s at the same time' % (
                place, record.name, pool.cidr, record.name, held.get('address') or held.get('prefix')))
        if kind == PREFIX:
            self._check_neighbours(pool, held, place)
        return made

    def _holder_of(self, kind, place):
        found = self.server.at(kind, place.split('/')[0] if kind == ADDRESS else place)
        return self.server.describe(kind, found[0]) if found else None

    def _check_neighbours(self, pool, held, place):
        """A prefix made at the engine's choice that another task's prefix overlaps: the one made later gives way."""
        server = self.server
        scope = server.dialect.scope()
        overlapping = server.list(PREFIXES, dict(scope, within_include=place))
        overlapping += server.list(PREFIXES, dict(scope, contains=place, within=pool.cidr))
        order = server.dialect.creation_order
        for obj in overlapping:
            if obj['id'] != held['id'] and order(obj) < order(held):
                server.delete(PREFIX, held)
                raise _PrefixTaken(server.describe(PREFIX, obj))

    def _move(self, space, obj, after):
        """The name's object moves to ``after``'s place: one PATCH where the server allows it, else made anew."""
        server, kind = self.server, after.kind
        if kind == PREFIX:
            inside = self._inside(after.kind, obj['prefix'])
            if inside:
                raise PoolInUseError('Prefix %s of pool %r holds %d object(s), which do not move with it: release them, '
                                     'or release the prefix first' % (obj['prefix'], space.settings.name, inside))
        if kind == ADDRESS and not server.dialect.can_move_address:
            return self._create_at(space, after, replaces=obj)
        body = server.names.fields(after.name, after.description)
        body['address' if kind == ADDRESS else 'prefix'] = _place(space.settings, after)
        if kind == ADDRESS:
            body['dns_name'] = after.dns_name or ''
        try:
            server.patch(kind, obj, body)
        except HttpError as exc:
            holder = self._holder_of(kind, body.get('address') or body.get('prefix')) if exc.status == 400 else None
            if holder is None:
                raise
            raise ConflictError('Cannot move %r of pool %r to %s: it is already held by %s' % (
                after.name, space.settings.name, body.get('address') or body.get('prefix'), holder)) from None
        return after

    def _inside(self, kind, cidr):
        """How many IP addresses and prefixes (anyone's) lie inside the prefix ``cidr``."""
        scope = self.server.dialect.scope()
        return (self.server.count(IPS, dict(scope, **self.server.dialect.ips_in(cidr)))
                + self.server.count(PREFIXES, dict(scope, within=cidr)))

    # -- many names: one list request for the names held, one bulk POST for the new ones ----------

    @scrubbed
    def bulk_allocate(self, pool, requests, check_mode=False):
        state = self._state(ADDRESS, writing=not check_mode)
        self._preload(pool, ADDRESS)
        space = state.space(pool)
        for request in requests:
            self._check_item(request)
        changes = plan_addresses(space, requests)
        outcomes = self._bulk_outcomes(space.settings, requests, changes)
        made = [(request, change) for request, change in zip(requests, changes) if change.changed]
        if not made:
            return BulkOutcome(outcomes)
        if check_mode:
            self._predict(state, [StoreChange(space.settings.name, change.before, change.after)
                                  for request, change in self._in_planning_order(made)])
            return BulkOutcome(outcomes)
        new = [(request, change) for request, change in made if change.before is None and not request.placed]
        for request, change in self._in_planning_order([item for item in made if item not in new]):
            after = self._write_item(request, space, change)
            outcomes[request.name] = Outcome(True, outcomes[request.name].before, record_view(space.settings, after))
        for _attempt in range(RACE_ATTEMPTS):
            try:
                allocated = self._allocate_next_many(space, new)
                break
            except _PoolFilled:
                # Another task took addresses since the read: plan the new names again on what the server holds now;
                # the engine names the first name left without one when they no longer fit.
                state = self._state(ADDRESS, writing=True)
                self._preload(pool, ADDRESS)
                space = state.space(pool)
                changes = plan_addresses(space, requests)
                new = [(request, change) for request, change in zip(requests, changes)
                       if change.changed and change.before is None and not request.placed]
        else:
            raise BackendError('%s kept making addresses of pool %s for other tasks while this one allocated %d names (%d '
                               'attempts): rerun the task' % (self.product, pool, len(new), RACE_ATTEMPTS))
        for request, after in allocated:
            outcomes[request.name] = Outcome(True, {}, record_view(space.settings, after))
        return BulkOutcome(outcomes)

    @scrubbed
    def bulk_release(self, pool, requests, check_mode=False):
        state = self._state(ADDRESS, writing=not check_mode)
        self._preload(pool, ADDRESS)
        space = state.space(pool)
        for request in requests:
            self._check_item(request)
        changes = plan_address_releases(space, requests)
        return self._make_bulk(state, space, requests, changes, check_mode)

    def _check_item(self, request):
        try:
            self.server.names.check(request.name)
        except IpamError as exc:
            raise for_item(request, exc) from None

    @staticmethod
    def _in_planning_order(items):
        order = {request.position: index for index, request in enumerate(planning_order([request for request, _ in items]))}
        return sorted(items, key=lambda item: order[item[0].position])

    @staticmethod
    def _bulk_outcomes(settings, requests, changes):
        outcomes = {}
        for request, change in zip(requests, changes):
            before, after = record_view(settings, change.before), record_view(settings, change.after)
            outcomes[request.name] = Outcome(change.changed, before, after if change.changed else before)
        return outcomes

    def _make_bulk(self, state, space, requests, changes, check_mode):
        """Predict or make planned ``changes`` one by one (each already checked by the engine as part of the whole)."""
        outcomes = self._bulk_outcomes(space.settings, requests, changes)
        made = self._in_planning_order([(request, change) for request, change in zip(requests, changes) if change.changed])
        if check_mode:
            if made:
                self._predict(state, [StoreChange(space.settings.name, change.before, change.after) for _request, change in made])
            return BulkOutcome(outcomes)
        for request, change in made:
            after = self._write_item(request, space, change)
            outcomes[request.name] = Outcome(True, outcomes[request.name].before, record_view(space.settings, after))
        return BulkOutcome(outcomes)

    def _write_item(self, request, space, change):
        try:
            return self._write(space, change)
        except IpamError as exc:
            raise for_item(request, exc) from None

    def _allocate_next_many(self, space, new):
        """The new names of a list, from the server's atomic bulk step: one POST of every body to available-ips (per IP
        range on NetBox, as the engine planned them), the server making them lowest first in the order given.  What
        the server cannot serve that way (it offered an address the rules keep free, or lost a race) is asked again
        name by name.  All or nothing: when the server refuses a list (fewer free than asked: another task took some
        since the read) or a name cannot be served, what this call made is deleted and _PoolFilled (or the name's
        error) is raised.  Returns ``[(request, Record)]``."""
        server, pool = self.server, space.pool
        if not new:
            return []
        paths = pool.available_ips_paths()
        groups = {}
        for request, change in new:
            index = 0
            for index, obj in enumerate(pool.range_objs):
                if address_value(obj['start_address']) <= change.after.first <= address_value(obj['end_address']):
                    break
            groups.setdefault(paths[index] if pool.range_objs else paths[0], []).append((request, change))
        allocated, made_here = [], []
        try:
            for path, items in groups.items():
                bodies = [server.new_body(ADDRESS, request.name, change.after.description, change.after.dns_name)
                          for request, change in items]
                made = server.create_next(path, bodies, lambda: None, 'the addresses of %d names' % len(bodies), IPS,
                                          'the next %d addresses of pool %s' % (len(bodies), pool.cidr)) or []
                made_here.extend(made)
                if not made:
                    # Both servers refuse a list they cannot serve whole (NetBox 409, Nautobot 204) and make none of it.
                    raise _PoolFilled()
                space.forget_names(ADDRESS)
                space.preload_names(ADDRESS)
                by_value = {address_value(obj['address']): obj for obj in made}
                for request, change in items:
                    held = space.object_of(ADDRESS, request.name)
                    value = address_value(held[0]['address']) if held is not None else None
                    if held is not None and value in by_value and pool.settings.allowed_for_address(value) is None:
                        allocated.append((request, held[1]))
                        continue
                    if held is not None and value in by_value:
                        self._set_aside(held[0], pool.settings.allowed_for_address(value))
                        made_here.remove(by_value[value])   # a reserved placeholder now, kept so it is not offered again
                    try:
                        obj = self._allocate_one_next(space, request, change)
                    except IpamError as exc:
                        raise for_item(request, exc) from None
                    made_here.append(obj)
                    allocated.append((request, server.record(ADDRESS, obj, request.name, ours=True)))
        except (_PoolFilled, IpamError):
            for obj in made_here:
                server.delete(ADDRESS, obj)
            space.forget_names(ADDRESS)
            raise
        return allocated

    def _allocate_one_next(self, space, request, change):
        fields = change.after
        body = self.server.new_body(ADDRESS, request.name, fields.description, fields.dns_name)
        for path in space.pool.available_ips_paths():
            obj = self._allocate_next_at(path, space.pool, request.name, body)
            if obj is not None:
                return obj
        raise exhausted_error(space)

    @scrubbed
    def bulk_allocate_prefix(self, pool, requests, check_mode=False):
        state = self._state(PREFIX, writing=not check_mode)
        self._preload(pool, PREFIX)
        space = state.space(pool)
        for request in requests:
            self._check_item(request)
        changes = plan_prefixes(space, requests)
        return self._make_bulk(state, space, requests, changes, check_mode)

    # -- prefixes -------------------------------------------------------------------------------

    @scrubbed
    def allocate_prefix(self, pool, name, prefix_length=None, prefix=None, description=None, check_mode=False):
        name = self.server.names.check(name)
        for _attempt in range(RACE_ATTEMPTS):
            state = self._state(PREFIX, writing=not check_mode)
            space = state.space(pool)
            change = plan_prefix(space, name, prefix_length, prefix, _trimmed(description))
            try:
                return self._make(state, space, change, check_mode)
            except _PrefixTaken as exc:
                if prefix is not None:
                    raise ConflictError('Cannot allocate %s to %r in pool %r: %s took it at the same time' % (
                        prefix, name, space.settings.name, exc)) from None
                self.pool_reader.forget(space.settings.name)
        raise BackendError('%s kept making prefixes of pool %s for other tasks while this one chose (%d attempts): rerun '
                           'the task' % (self.product, pool, RACE_ATTEMPTS))

    @scrubbed
    def release_prefix(self, pool, name=None, prefix=None, force=False, check_mode=False):
        state = self._state(PREFIX, writing=not check_mode)
        space = state.space(pool)
        change = plan_prefix_release(space, None if name is None else self.server.names.check(name), prefix)
        if change.before is None:
            return Outcome(False, None, None)
        cidr = record_view(space.settings, change.before)['prefix']
        inner = self._state(None, writing=not check_mode)
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
            self._predict(state, changes)
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
        state = self._state(None, writing=not check_mode)
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
            self._predict(state, [StoreChange(cidr, current, settings)])
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
        state = self._state(None, writing=not check_mode)
        change = plan_pool_removal(state, cidr, force)
        outcome = Outcome(change.changed, change.before, change.after)
        if not change.changed:
            return outcome
        if check_mode:
            self._predict(state, [StoreChange(cidr, state.space(cidr).settings, None)])
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
