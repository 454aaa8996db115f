# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""The server's pools as the engine plans on them: a ``StoreState`` and ``PoolSpace`` over NetBox or Nautobot.

The engine (engine.py) decides which address or prefix a name gets, what an update
changes and what is a conflict, on these views, exactly as it does on a file store;
check mode puts the run's predictions on top of them (overlay.PredictedState).  They
only read: a real change is made by the backend's steps on the server (remote/backend.py).

One difference is the server's own model, kept as it is: a child prefix does not take
the addresses it covers (on a server, a subnet's hosts are IP addresses inside it), so
a view is of one kind, ``ADDRESS`` (IP address objects) or ``PREFIX`` (child prefixes),
or both for a pool's own changes.
"""

from __future__ import annotations

from ..core.addresses import parse_network
from ..core.errors import PoolNotFoundError
from ..core.intervals import IntervalSet
from ..core.model import ADDRESS, PREFIX, PoolSettings, record_view
from .objects import IPS, PREFIXES, TAG
from ..core.state import PoolSpace, StoreState
from .names import clean
from .pools import RemotePool
from .server import address_value


class RemoteState(StoreState):
    """A server's pools, read lazily for one task; ``kind`` None, ``ADDRESS`` or ``PREFIX`` (see the module).

    Not a writable state: ``put_pool``/``delete_pool`` are never called on it (check mode puts an
    overlay.PredictedState in front, and real changes go through the backend's steps).
    """

    pools_nest = True       # prefixes nest on a server: its hierarchy decides, not the file store's overlap rule

    def __init__(self, server, pools, kind=None):
        self._server = server
        self._pools = pools
        self.kind = kind
        self._spaces = {}
        self._names = None

    def pool_names(self):
        """The pools that hold allocations of ours (every prefix of a VRF could be thousands), sorted."""
        if self._names is None:
            server = self._server
            scope, tagged = server.dialect.scope(), server.dialect.tag_filter(TAG)
            cidrs = set()
            for obj in server.list(IPS, dict(scope, **tagged)):
                if server.names.read(obj)[0] is not None:
                    cidrs.add(parse_network(obj['address'], strict=False).text())
            for obj in server.list(PREFIXES, dict(scope, **tagged)):
                if server.names.read(obj)[0] is not None:
                    parent = server.dialect.parent_cidr(obj)
                    if parent is not None:
                        cidrs.add(parent)
            self._names = sorted(cidr for cidr in cidrs if self._pools.read(cidr) is not None)
        return list(self._names)

    def space(self, name):
        cidr = self._pools.network(name).text()
        space = self._spaces.get(cidr)
        if space is None:
            pool = self._pools.read(cidr)
            if pool is None:
                raise self.missing_pool(cidr)
            space = self._spaces[cidr] = RemoteSpace(self._server, self._pools, pool, self.kind)
        return space

    def missing_pool(self, name):
        server = self._server
        return PoolNotFoundError('Prefix %s does not exist in %s %s: create it with ipam.allocator.ip_pool or in %s' % (
            name, server.product, server.dialect.scope_text(), server.product))

    def prefix_pool_settings(self, settings, record):
        """The pool a child prefix ``record`` of the pool ``settings`` is on the server (it holds the name's fields)."""
        cidr = record_view(settings, record)['prefix']
        description = self._server.names.fields(record.name, record.description)['description']
        return PoolSettings.from_params(cidr, cidr, description=clean(description))

    def unmade_space(self, settings):
        return RemoteSpace(self._server, self._pools, RemotePool(settings), self.kind)

    def put_pool(self, settings):
        raise NotImplementedError('the server is changed by the backend, not through its view')

    def delete_pool(self, name):
        raise NotImplementedError('the server is changed by the backend, not through its view')

    def warn_of_damage(self, warnings):
        """A server keeps its own objects consistent: nothing to report."""


class RemoteSpace(PoolSpace):
    """One pool on the server as the engine sees it: what ``kind`` of objects take its values, and our allocations."""

    prefixes_take_addresses = False

    def __init__(self, server, pools, pool, kind):
        self._server = server
        self._pools = pools
        self.pool = pool
        self.settings = pool.settings
        self._kind = kind
        self._named = {}        # (kind, name) -> (object, Record) or None
        self._all_named = set()  # kinds whose every named object is in _named (``preload_names``)
        self._occupants = None  # [(first, last, kind, object)] sorted
        self._occupied = None

    def _kinds(self):
        return (ADDRESS, PREFIX) if self._kind is None else (self._kind,)

    # -- what a name holds -----------------------------------------------------------------

    def named(self, kind, name):
        found = self.object_of(kind, name)
        return None if found is None else found[1]

    def object_of(self, kind, name):
        """``(server object, Record)`` that ``name`` holds here, or None."""
        key = (kind, name)
        if key not in self._named and kind in self._all_named:
            return None
        if key not in self._named:
            obj = None
            if self.pool.obj is not None:
                obj = self._server.find(kind, self.pool, name)
            self._named[key] = None if obj is None else (obj, self._server.record(kind, obj, name, ours=True))
        return self._named[key]

    def preload_names(self, kind):
        """Read every named object of ``kind`` in the pool with one request: ``named`` then answers from them."""
        if self.pool.obj is None or kind in self._all_named:
            return
        server = self._server
        by_name = {}
        for obj in server.ours_in(kind, self.pool):
            by_name.setdefault(server.names.read(obj)[0], []).append(obj)
        for name, objs in by_name.items():
            obj = server.one_per_name(kind, self.pool, name, objs)
            self._named[(kind, name)] = (obj, server.record(kind, obj, name, ours=True))
        self._all_named.add(kind)

    def forget_names(self, kind):
        """Forget what names of ``kind`` hold (after the server made some): the next look asks again."""
        for key in [key for key in self._named if key[0] == kind]:
            del self._named[key]
        self._all_named.discard(kind)

    def records(self, kind=None):
        if self.pool.obj is None:
            return
        server = self._server
        for record_kind in (ADDRESS, PREFIX):
            if kind is not None and kind != record_kind:
                continue
            for obj in server.ours_in(record_kind, self.pool):
                yield server.record(record_kind, obj, ours=True)

    def count(self, kind):
        """As the server counts: every IP address object in the pool's allocatable space, every prefix inside it."""
        if kind == ADDRESS:
            return self._pools.used(self.pool)
        server = self._server
        return server.count(PREFIXES, dict(server.dialect.scope(), within=self.pool.cidr))

    def validate(self):
        """A server keeps its own objects consistent."""

    # -- what takes its values -------------------------------------------------------------

    def _load(self):
        """The objects of our kinds inside the pool, anyone's: IP addresses of any length, direct child prefixes."""
        if self._occupants is None:
            server, pool = self._server, self.pool
            occupants = []
            if ADDRESS in self._kinds():
                inside = dict(server.dialect.scope(), **server.dialect.ips_in(pool.cidr))
                for obj in server.list(IPS, inside):
                    value = address_value(obj['address'])
                    if value in pool.network:
                        occupants.append((value, value, ADDRESS, obj))
            if PREFIX in self._kinds():
                for obj in server.list(PREFIXES, server.in_pool(PREFIX, pool)):
                    if server.dialect.is_direct_child(pool, obj):
                        record = server.record(PREFIX, obj, ours=False)
                        occupants.append((record.first, record.last, PREFIX, obj))
            occupants.sort(key=lambda item: item[:2])
            occupied = IntervalSet([item[:2] for item in occupants] + self.settings.blocked())
            self._occupants, self._occupied = occupants, occupied
        return self._occupied

    def occupied_from(self, value):
        return self._load().iter_from(value)

    def find_overlapping(self, first, last):
        """The Record of an object that takes a value of [first, last] (its name None when it is not ours)."""
        obj_kind = self._occupant(first, last)
        if obj_kind is None:
            return None
        kind, obj = obj_kind
        return self._server.record(kind, obj)

    def _occupant(self, first, last):
        self._load()
        for start, end, kind, obj in self._occupants:
            if start <= last and first <= end:
                return kind, obj
        return None

    def holder_text(self, first, last):
        found = self._occupant(first, last)
        if found is not None:
            return self._server.describe(*found)
        gateway = self.settings.gateway
        if gateway is not None and first <= gateway <= last:
            return 'the gateway %s' % self.pool.settings.to_doc()['gateway']
        return 'a reserved value'

    def used(self):
        return self.count(ADDRESS)

    # -- changes go through the backend's steps on the server --------------------------------

    def add(self, record):
        raise NotImplementedError('the server is changed by the backend, not through its view')

    def remove(self, record):
        raise NotImplementedError('the server is changed by the backend, not through its view')
