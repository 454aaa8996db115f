# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""Many names in one task on a server: the engine plans the whole list, the names held come from one list request,
and the new addresses from one bulk POST to available-ips (per IP range on NetBox).

Both servers make such a list all or nothing (NetBox answers 409, Nautobot 204 when fewer are free than asked), and
so does this step: a refused list is planned again on what the server then holds, and whatever else fails deletes
what the step made.  Updates, moves and releases are written one by one, each checked by the engine as part of the
whole.
"""

from __future__ import annotations

from ..backend import BulkOutcome, Outcome
from ..core.bulk import for_item, planning_order
from ..core.changes import StoreChange
from ..core.engine import plan_address_releases, plan_addresses, plan_prefixes
from ..core.errors import BackendError, IpamError
from ..core.model import ADDRESS, PREFIX, record_view
from .objects import IPS
from .server import RACE_ATTEMPTS, address_value


class _PoolFilled(Exception):
    """The server refused a bulk POST as more than it has free: another task took addresses since the read."""


def _in_planning_order(items):
    order = {request.position: index for index, request in enumerate(planning_order([item[0] for item in items]))}
    return sorted(items, key=lambda item: order[item[0].position])


def _outcomes(settings, requests, changes):
    outcomes = {}
    for request, change in zip(requests, changes):
        before, after = record_view(settings, change.before), record_view(settings, change.after)
        outcomes[request.name] = Outcome(change.changed, before, after if change.changed else before)
    return outcomes


class RemoteBulk:
    """The bulk operations of a remote backend: ``backend`` gives the views and records predictions, ``writer`` makes
    one record at a time."""

    def __init__(self, backend, writer):
        self.backend = backend
        self.server = backend.server
        self.writer = writer

    def _plan(self, pool, kind, requests, plan, check_mode):
        """The view of ``pool`` (every name of ``kind`` read in one request) and the engine's ``plan`` for the list."""
        state = self.backend.state(kind, writing=not check_mode)
        self.backend.preload(pool, kind)
        space = state.space(pool)
        for request in requests:
            self._check_item(request)
        return state, space, plan(space, requests)

    def allocate(self, pool, requests, check_mode=False):
        state, space, changes = self._plan(pool, ADDRESS, requests, plan_addresses, check_mode)
        outcomes = _outcomes(space.settings, requests, changes)
        made = [(request, change) for request, change in zip(requests, changes) if change.changed]
        if not made:
            return BulkOutcome(outcomes)
        if check_mode:
            self.backend.predict(state, [StoreChange(space.settings.name, change.before, change.after)
                                         for _request, change in _in_planning_order(made)])
            return BulkOutcome(outcomes)
        new = [(request, change) for request, change in made if change.before is None and not request.placed]
        for request, change in _in_planning_order([item for item in made if item not in new]):
            after = self._write_item(request, space, change)
            outcomes[request.name] = Outcome(True, outcomes[request.name].before, record_view(space.settings, after))
        for _attempt in range(RACE_ATTEMPTS):
            try:
                allocated = self._allocate_next_many(space, new)
                break
            except _PoolFilled:
                # Another task took addresses since the read: plan the new names again on what the server holds now;
                # the engine names the first name left without one when they no longer fit.
                state, space, changes = self._plan(pool, ADDRESS, requests, plan_addresses, False)
                new = [(request, change) for request, change in zip(requests, changes)
                       if change.changed and change.before is None and not request.placed]
        else:
            raise BackendError('%s kept making addresses of pool %s for other tasks while this one allocated %d names (%d '
                               'attempts): rerun the task' % (self.server.product, pool, len(new), RACE_ATTEMPTS))
        for request, after in allocated:
            outcomes[request.name] = Outcome(True, {}, record_view(space.settings, after))
        return BulkOutcome(outcomes)

    def release(self, pool, requests, check_mode=False):
        state, space, changes = self._plan(pool, ADDRESS, requests, plan_address_releases, check_mode)
        return self._make(state, space, requests, changes, check_mode)

    def _check_item(self, request):
        try:
            self.server.names.check(request.name)
        except IpamError as exc:
            raise for_item(request, exc) from None

    def _make(self, state, space, requests, changes, check_mode):
        """Predict or make planned ``changes`` one by one (each already checked by the engine as part of the whole)."""
        outcomes = _outcomes(space.settings, requests, changes)
        made = _in_planning_order([(request, change) for request, change in zip(requests, changes) if change.changed])
        if check_mode:
            if made:
                self.backend.predict(state, [StoreChange(space.settings.name, change.before, change.after)
                                             for _request, change in made])
            return BulkOutcome(outcomes)
        for request, change in made:
            after = self._write_item(request, space, change)
            outcomes[request.name] = Outcome(True, outcomes[request.name].before, record_view(space.settings, after))
        return BulkOutcome(outcomes)

    def _write_item(self, request, space, change):
        try:
            return self.writer.write(space, change)
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
                        self.writer.set_aside(held[0], pool.settings.allowed_for_address(value))
                        made_here.remove(by_value[value])   # a reserved placeholder now, kept so it is not offered again
                    try:
                        obj = self.writer.allocate_next(space, request.name, change.after.description, change.after.dns_name)
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

    def allocate_prefixes(self, pool, requests, check_mode=False):
        state, space, changes = self._plan(pool, PREFIX, requests, plan_prefixes, check_mode)
        return self._make(state, space, requests, changes, check_mode)
