# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""The server's write steps for one record, as the engine planned it: make, move, update, delete.

A new address with no place asked for comes from the server's atomic ``POST .../available-ips/`` (checked against the
engine's rules); a place the engine chose is created there, the server's uniqueness and a look at the neighbours
guarding it; an update is a PATCH, a release a DELETE of the object this collection made.
"""

from __future__ import annotations

from ..core.addresses import parse_address
from ..core.engine import exhausted_error
from ..core.errors import BackendError, ConflictError, PoolInUseError
from ..core.model import ADDRESS, PREFIX, record_view
from .http import HttpError
from .objects import IPS, PREFIXES
from .server import PATHS, address_value


def place_text(settings, record):
    """The address (with the pool's length) or prefix of ``record``, as the server writes it."""
    if record.kind == ADDRESS:
        return '%s/%d' % (record_view(settings, record)['address'], settings.network.prefix_length)
    return record_view(settings, record)['prefix']


class PrefixTaken(Exception):
    """Another task made an overlapping prefix at the same time: plan again."""


class Writer:
    """Makes one engine Change on the server (``write``), or a new address at the server's choice (``allocate_next``)."""

    def __init__(self, server):
        self.server = server

    @property
    def product(self):
        return self.server.product

    def allocate_next(self, space, name, description, dns_name):
        """The object the server made for ``name`` at the next free address (of the prefix, or its IP ranges in order)."""
        body = self.server.new_body(ADDRESS, name, description, dns_name)
        for path in space.pool.available_ips_paths():
            obj = self.allocate_next_at(path, space.pool, name, body)
            if obj is not None:
                return obj
        raise exhausted_error(space)

    def allocate_next_at(self, path, pool, name, body):
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
            self.set_aside(obj, reason)
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

    def set_aside(self, obj, reason):
        """The server offered an address the rules keep free (Nautobot: IPv6's subnet-router anycast address): keep it
        as a reserved placeholder, not an allocation, so neither the server nor the engine offers it again."""
        body = dict(self.server.dialect.reserved_fields(), tags=[], description='kept free by ipam.allocator: %s' % reason)
        if self.server.names.key_field is not None:
            body['custom_fields'] = {self.server.names.key_field: None}
        self.server.http.patch('%s%s/' % (IPS, obj['id']), body)

    def write(self, space, change):
        """Make ``change`` (of one record of ``space``) on the server; the record as the server then holds it."""
        server, before, after = self.server, change.before, change.after
        kind = (before or after).kind
        held = space.object_of(kind, before.name) if before is not None else None
        if after is None:
            server.delete(kind, held[0])
            return None
        if before is None:
            return self.create_at(space, after)
        if (before.first, before.last) != (after.first, after.last):
            return self._move(space, held[0], after)
        body = server.names.fields(after.name, after.description)
        if kind == ADDRESS:
            body['dns_name'] = after.dns_name or ''
        server.patch(kind, held[0], body)
        return after

    def create_at(self, space, record, replaces=None):
        """Make ``record`` at its place; the server's uniqueness (and, for a prefix, a look at its neighbours) guards it."""
        server, pool, kind = self.server, space.pool, record.kind
        place = place_text(space.settings, record)
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
                raise PrefixTaken(server.describe(PREFIX, obj))

    def _move(self, space, obj, after):
        """The name's object moves to ``after``'s place: one PATCH where the server allows it, else made anew."""
        server, kind = self.server, after.kind
        if kind == PREFIX:
            inside = self._inside(after.kind, obj['prefix'])
            if inside:
                raise PoolInUseError('Prefix %s of pool %r holds %d object(s), which do not move with it: release them, '
                                     'or release the prefix first' % (obj['prefix'], space.settings.name, inside))
        if kind == ADDRESS and not server.dialect.can_move_address:
            return self.create_at(space, after, replaces=obj)
        body = server.names.fields(after.name, after.description)
        body['address' if kind == ADDRESS else 'prefix'] = place_text(space.settings, after)
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
