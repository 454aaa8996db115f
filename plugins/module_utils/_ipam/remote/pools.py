# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""A pool on a server: a prefix given by its CIDR, its gateway (the IP address in it tagged ``gateway``)
and, on NetBox, its ranges (IP range objects this collection made in it); read once per task, and written.
"""

from __future__ import annotations

from ..core.addresses import format_address, format_block, parse_address, parse_network
from ..core.errors import BackendError, ConflictError, InvalidInputError, PoolInUseError
from .http import HttpError
from ..core.model import ADDRESS, PoolSettings
from .objects import IPS, PREFIXES, RANGES, TAG, single
from .names import clean
from .server import RANGE, address_value

GATEWAY_TAG = 'gateway'


def range_description(network):
    return 'pool %s (ipam.allocator)' % network.text()


def _range_text(obj):
    return '%s-%s' % (obj['start_address'].split('/', 1)[0], obj['end_address'].split('/', 1)[0])


def _with_length(network, value):
    return '%s/%d' % (format_address(network.version, value), network.prefix_length)


class RemotePool:
    """A prefix used as a pool: settings (named by its CIDR) and the server's objects.

    ``obj`` is None for a pool only predicted (check mode): its CIDR is what the server would hold.
    """

    __slots__ = ('settings', 'obj', 'gateway_obj', 'range_objs')

    def __init__(self, settings, obj=None, gateway_obj=None, range_objs=()):
        self.settings = settings
        self.obj = obj
        self.gateway_obj = gateway_obj
        #: the server's IP range objects that are the pool's ``ranges``, lowest first
        self.range_objs = list(range_objs)

    @property
    def cidr(self):
        return self.settings.name

    @property
    def network(self):
        return self.settings.network

    @property
    def path(self):
        return '%s%s/' % (PREFIXES, self.obj['id'])

    def available_ips_paths(self):
        """Where the server hands out the pool's addresses, lowest first: its IP ranges, or the whole prefix."""
        if self.range_objs:
            return ['%s%s/available-ips/' % (RANGES, obj['id']) for obj in self.range_objs]
        return [self.path + 'available-ips/']


class Pools:
    """The pools of one server (``remote.server.Server``), each read once."""

    def __init__(self, server, backend_name):
        self.server = server
        self._backend_name = backend_name
        self._read = {}

    def network(self, pool):
        if not isinstance(pool, str) or '/' not in pool:
            raise InvalidInputError('Invalid pool %r: on the %s backend a pool is a prefix given by its CIDR, such as '
                                    '10.0.0.0/24' % (pool, self._backend_name))
        return parse_network(str(pool), what='pool')

    def read(self, pool):
        """The RemotePool of ``pool`` (a CIDR), or None when the server has no such prefix in our VRF / namespace."""
        network = self.network(pool)
        cidr = network.text()
        if cidr not in self._read:
            self._read[cidr] = self._fetch(network)
        return self._read[cidr]

    def forget(self, cidr):
        self._read.pop(cidr, None)

    def _fetch(self, network):
        server, cidr = self.server, network.text()
        found = server.list(PREFIXES, dict(server.dialect.scope(), prefix=cidr))
        if not found:
            return None
        if len(found) > 1:
            raise BackendError('%s has %d prefixes %s %s (ids %s); a pool must be one: delete the duplicates' % (
                server.product, len(found), cidr, server.dialect.scope_text(), ', '.join(str(obj['id']) for obj in found)))
        gateway = self._gateway(network)
        range_objs = self._ranges(network) if server.dialect.ip_ranges else []
        settings = PoolSettings.from_params(
            cidr, cidr, ranges=[_range_text(obj) for obj in range_objs],
            gateway=None if gateway is None else gateway['address'].split('/', 1)[0],
            description=clean(found[0].get('description')))
        return RemotePool(settings, found[0], gateway, range_objs)

    def _gateway(self, network):
        """The lowest usable IP address object in ``network`` tagged ``gateway``, or None."""
        server = self.server
        params = dict(server.dialect.scope(), **server.dialect.ips_in(network.text()))
        params.update(server.dialect.tag_filter(GATEWAY_TAG))
        low, high = network.usable_bounds()
        for obj in sorted(server.list(IPS, params), key=lambda obj: address_value(obj['address'])):
            version, value = parse_address(obj['address'].split('/', 1)[0])
            if version == network.version and low <= value <= high:
                return obj
        return None

    def _ranges(self, network):
        """Our IP range objects made for the pool ``network`` (not those of pools nested in it), lowest first."""
        server = self.server
        params = dict(server.dialect.scope(), parent=network.text(), **server.dialect.tag_filter(TAG))
        found = []
        for obj in server.list(RANGES, params):
            if obj.get('description') != range_description(network):
                continue
            version, first = parse_address(obj['start_address'].split('/', 1)[0])
            last = address_value(obj['end_address'])
            if version == network.version and network.contains_block(first, last):
                found.append((first, obj))
        return [obj for _first, obj in sorted(found, key=lambda item: item[0])]

    def used(self, pool):
        """IP address objects in the pool's allocatable space: not the gateway, not a placeholder on the network
        or broadcast address, not outside its ranges."""
        server, network = self.server, pool.network
        inside = dict(server.dialect.scope(), **server.dialect.ips_in(pool.cidr))
        if pool.settings.ranges or pool.obj is None:
            allowed = pool.settings.allowed_for_address
            return sum(1 for obj in server.list(IPS, inside) if allowed(address_value(obj['address'])) is None)
        used = server.count(IPS, inside)
        if pool.gateway_obj is not None:
            used -= 1
        low, high = network.usable_bounds()
        edges = sorted({format_address(network.version, value) for value in (network.first, network.last)
                        if not low <= value <= high})
        if edges and used:
            used -= server.count(IPS, dict(server.dialect.scope(), address=edges))
        return max(used, 0)

    # -- writing --------------------------------------------------------------------------

    def create(self, settings):
        """Make the prefix of ``settings``, with its description, gateway and ranges."""
        server, network, cidr = self.server, settings.network, settings.name
        if settings.gateway is not None:
            self._check_free(settings, settings.gateway)
        body = dict(server.dialect.scope_fields(), **server.dialect.status_fields())
        body.update(prefix=cidr, description=settings.description or '')
        server.create(PREFIXES, body, lambda: single(server.list(PREFIXES, dict(server.dialect.scope(), prefix=cidr))),
                      'the prefix %s' % cidr, PREFIXES)
        self.forget(cidr)
        if settings.gateway is not None:
            self._make_gateway(network, settings.gateway)
        self._set_ranges(network, [], settings.ranges)

    def update(self, pool, settings):
        """Make the pool's description, gateway and ranges those of ``settings``."""
        server, network, current = self.server, pool.network, pool.settings
        if settings.description != current.description:
            server.http.patch(pool.path, {'description': settings.description or ''})
        if settings.gateway != current.gateway:
            if settings.gateway is not None:
                self._check_free(settings, settings.gateway)
            if pool.gateway_obj is not None:
                server.delete(ADDRESS, pool.gateway_obj)
            if settings.gateway is not None:
                self._make_gateway(network, settings.gateway)
        if sorted(settings.ranges) != sorted(current.ranges):
            self._set_ranges(network, pool.range_objs, settings.ranges)
        self.forget(pool.cidr)

    def remove(self, pool, force):
        """Delete the prefix, its gateway and ranges (and with ``force`` our allocations inside)."""
        server = self.server
        if force:
            server.delete_ours_in(pool.cidr)
        if pool.gateway_obj is not None:     # a setting of the pool, like its description: it goes with it
            server.delete(ADDRESS, pool.gateway_obj)
        for obj in pool.range_objs:          # so are its IP ranges
            server.delete(RANGE, obj)
        try:
            server.http.delete(pool.path)
        except HttpError as exc:
            if exc.status != 409:
                raise
            raise PoolInUseError('%s refuses to delete prefix %s: %s. Delete those objects first (ipam.allocator '
                                 'only deletes what it made)' % (server.product, pool.cidr, exc)) from None
        self.forget(pool.cidr)

    def _check_free(self, settings, value):
        holder = self.server.holder(settings.version, value)
        if holder is not None:
            raise ConflictError('Cannot make gateway %s of pool %s: the address is held by %s' % (
                format_address(settings.version, value), settings.name, holder))

    def _make_gateway(self, network, gateway):
        server = self.server
        server.tag_id(GATEWAY_TAG, create=True)
        body = dict(server.dialect.scope_fields(), **server.dialect.status_fields())
        body.update(address=_with_length(network, gateway), description='gateway',
                    tags=[server.dialect.tag_ref(GATEWAY_TAG)])
        server.create(IPS, body, lambda: self._gateway(network), 'the gateway %s' % format_address(network.version, gateway),
                      IPS)

    def _set_ranges(self, network, range_objs, ranges):
        """Make the pool's IP range objects exactly ``ranges`` ([(first, last)]): delete ours that go, make those that come."""
        server = self.server
        wanted = set(ranges)
        for obj in range_objs:
            first, last = address_value(obj['start_address']), address_value(obj['end_address'])
            if (first, last) in wanted:
                wanted.discard((first, last))
            else:
                server.delete(RANGE, obj)
        if wanted:
            server.tag_id(TAG, create=True)
        for first, last in sorted(wanted):
            start, end = _with_length(network, first), _with_length(network, last)
            body = dict(server.dialect.scope_fields(), **server.dialect.status_fields())
            body.update(start_address=start, end_address=end, tags=[server.dialect.tag_ref(TAG)],
                        description=range_description(network))
            server.create(RANGES, body,
                          lambda start=start: single(server.list(RANGES, dict(server.dialect.scope(), start_address=start))),
                          'the IP range %s' % format_block(network.version, first, last), RANGES)
