# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""What the ``netbox`` and ``nautobot`` backends share: everything but the API's dialect.

A pool is a prefix given by its CIDR (in a NetBox VRF or a Nautobot namespace).
An allocation is an IP address (or child prefix) object that carries the tag
``ipam-allocator`` and its name: in a custom field (option ``key_field``) or in
its description (``name`` or ``name | description``).  The server allocates
atomically through ``available-ips`` / ``available-prefixes``; this module finds
a name's object with one query, so a rerun changes nothing, and it deletes only
objects it made.  The pool's gateway is the IP address in the prefix tagged
``gateway``.  Views come from ``model.record_view``/``pool_view``, the same
serializer as the file backend.
"""

from __future__ import annotations

import os
import re

from .addresses import BITS, format_address, format_block, parse_address, parse_network
from .backend import Backend, Outcome
from .engine import requested_address, requested_length
from .errors import (
    BackendError,
    ConflictError,
    InvalidInputError,
    OutOfPoolError,
    PoolExhaustedError,
    PoolInUseError,
    PoolNotFoundError,
)
from .http import HttpClient, HttpError
from .model import ADDRESS, PREFIX, PoolSettings, Record, pool_view, record_view
from .redact import normalized_token, scrubbed
from .remote_objects import IPS, PREFIXES, RANGES, TAG, TAGS, free_blocks, problem, single
from .remote_predictions import DROP, FREE, POOL, RELEASED, TAKE, Overlay, prediction
from .remote_writes import RemoteWrites

GATEWAY_TAG = 'gateway'
TAG_DESCRIPTION = 'Made by the ipam.allocator Ansible collection; the name of each allocation is kept with it'
SEPARATOR = ' | '
KEY_FIELD = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*$')
DEFAULT_TIMEOUT = 30
IP_RANGE = 'range'
_PATHS = {ADDRESS: IPS, PREFIX: PREFIXES, IP_RANGE: RANGES}
_WORDS = {ADDRESS: 'IP address', PREFIX: 'prefix'}


def _env(*names):
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


def _clean(value):
    """Text as the server keeps it (trimmed); empty means unset."""
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def _updated(record, description, dns_name):
    changes = {}
    if description is not None:
        changes['description'] = description
    if dns_name is not None and record.kind == ADDRESS:
        changes['dns_name'] = dns_name
    return record.replace(**changes) if changes else record


def _without(intervals, first, last):
    """``[[first, last], ...]`` less the block ``first``-``last``."""
    kept = []
    for low, high in intervals:
        if high < first or last < low:
            kept.append([low, high])
            continue
        kept.extend(part for part in ([low, first - 1], [last + 1, high]) if part[0] <= part[1])
    return kept


def _address_value(text):
    """The integer of an address as the server writes it (``10.0.0.5/24``)."""
    return parse_address(text.split('/', 1)[0])[1]


def _range_description(network):
    return 'pool %s (ipam.allocator)' % network.text()


def _range_text(obj):
    return '%s-%s' % (obj['start_address'].split('/', 1)[0], obj['end_address'].split('/', 1)[0])


def _range_texts(settings):
    return [format_block(settings.version, first, last) for first, last in sorted(settings.ranges)]


def _gateway_text(settings):
    return None if settings.gateway is None else format_address(settings.version, settings.gateway)


def _merged(intervals):
    """Sorted, with touching intervals joined: a block may span what the server listed as two."""
    merged = []
    for low, high in sorted(intervals):
        if merged and low <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    return merged


class RemotePool:
    """A prefix used as a pool: settings (named by its CIDR) and the server's object.

    In check mode a pool may be only predicted (``obj`` None): made by an earlier check-mode task.
    """

    __slots__ = ('settings', 'obj', 'gateway_on_server', 'range_objs', 'ranges_predicted')

    def __init__(self, settings, obj, gateway_on_server=False, range_objs=(), ranges_predicted=False):
        self.settings = settings
        self.obj = obj
        self.gateway_on_server = gateway_on_server
        #: the server's IP range objects that are the pool's ``ranges``, lowest first
        self.range_objs = list(range_objs)
        #: check mode: an earlier task changed the ranges, so the server's range objects are not the pool's
        self.ranges_predicted = ranges_predicted

    @property
    def predicted(self):
        return self.obj is None

    @property
    def cidr(self):
        return self.settings.name

    @property
    def network(self):
        return self.settings.network

    @property
    def path(self):
        return '%s%s/' % (PREFIXES, self.obj['id'])


class RemoteBackend(RemoteWrites, Backend):
    """The backend interface over a NetBox-like REST API; subclasses speak the dialect."""

    product = None      # 'NetBox'
    url_env = None      # 'NETBOX_URL'
    token_env = None    # 'NETBOX_TOKEN'
    prefix_description_filter = True    # the server filters prefixes by description__isw
    ip_ranges = False                   # IP range objects with their own available-ips (a pool's ``ranges``)
    can_move_address = True             # PATCH may change an IP address object's address

    def __init__(self, options):
        super().__init__(options)
        url = options.get('url') or _env('IPAM_ALLOCATOR_URL', self.url_env)
        token = normalized_token(options.get('token') or _env('IPAM_ALLOCATOR_TOKEN', self.token_env) or '', self.product)
        if not url:
            raise BackendError('The %s backend needs the server address: set the "url" option (or %s)' % (self.name, self.url_env))
        if not token:
            raise BackendError('The %s backend needs an API token: set the "token" option (or IPAM_ALLOCATOR_TOKEN or %s)'
                               % (self.name, self.token_env))
        timeout = options.get('timeout')
        timeout = DEFAULT_TIMEOUT if timeout is None else timeout
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise InvalidInputError('timeout %r must be a number of seconds above 0' % (timeout,))
        key_field = options.get('key_field') or None
        if key_field is not None and not KEY_FIELD.match(str(key_field)):
            raise InvalidInputError('key_field %r must be the name of a custom field: letters, digits and underscores' % (key_field,))
        self.key_field = None if key_field is None else str(key_field)
        validate_certs = options.get('validate_certs')
        self.http = HttpClient(url, token, self.auth_scheme(token),
                               validate_certs=True if validate_certs is None else validate_certs,
                               ca_path=options.get('ca_path'), timeout=timeout, product=self.product)
        self._warnings.extend(self.http.warnings)     # plain http to another host
        self._pools = {}
        self._tag_ids = {}
        self._checking = None   # the check_mode of the change being made; None before any change

    def close(self):
        self.http.close()

    @property
    def warnings(self):
        # Like errors, warnings quote what the server holds.
        return [self.http.scrub(text) for text in self._warnings]

    # -- the dialect: subclasses override ------------------------------------------

    def auth_scheme(self, token):
        return 'Token'

    def scope(self):
        """Query parameters that keep a list in our VRF / namespace."""
        raise NotImplementedError

    def scope_text(self):
        raise NotImplementedError

    def scope_fields(self):
        """Body fields that put a new prefix or IP address in our VRF / namespace."""
        raise NotImplementedError

    def status_fields(self):
        """Body fields every new object needs."""
        return {}

    def reserved_fields(self):
        raise NotImplementedError

    def in_scope(self, obj):
        return True

    def tag_filter(self, tag):
        raise NotImplementedError

    def tag_ref(self, tag):
        raise NotImplementedError

    def tag_query(self, tag):
        raise NotImplementedError

    def tag_body(self, tag):
        raise NotImplementedError

    def ips_in(self, cidr):
        """Query parameters for the IP addresses inside ``cidr``."""
        raise NotImplementedError

    def children_filter(self, pool):
        """Query parameters for the direct child prefixes of ``pool``."""
        raise NotImplementedError

    def is_direct_child(self, pool, obj):
        raise NotImplementedError

    def parent_cidr(self, obj):
        """The CIDR of the prefix a child prefix was allocated from, or None."""
        raise NotImplementedError

    # -- small helpers --------------------------------------------------------------

    def _objects(self, path, params):
        """Every object of a list endpoint, each checked to have the shape of its kind."""
        return list(self.http.paged(path, params, check=lambda obj: problem(path, obj)))

    def _list(self, path, params):
        try:
            return [obj for obj in self._objects(path, params) if self.in_scope(obj)]
        except HttpError as exc:
            if exc.status == 400 and isinstance(exc.data, dict) and set(exc.data) <= {'tag', 'tags'}:
                return []   # the tag does not exist yet, so nothing carries it
            if exc.status == 400 and self.key_field and 'cf_%s' % self.key_field in (exc.data or {}):
                raise BackendError('%s has no custom field %r (option key_field): create it as a text field on IP '
                                   'addresses and prefixes, or drop key_field' % (self.product, self.key_field)) from None
            raise

    def _count(self, path, params):
        try:
            response = self.http.get(path, dict(params, limit=1))
        except HttpError as exc:
            if exc.status == 400 and isinstance(exc.data, dict) and set(exc.data) <= {'tag', 'tags'}:
                return 0
            raise
        count = response.data.get('count') if isinstance(response.data, dict) else None
        if isinstance(count, bool) or not isinstance(count, int):
            raise response.invalid('expected a page of results with its "count"')
        return count

    def _delete(self, kind, obj):
        try:
            self.http.delete('%s%s/' % (_PATHS[kind], obj['id']))
        except HttpError as exc:
            if exc.status != 404:   # already gone is what we wanted
                raise

    def _tag_id(self, tag, create=False):
        if tag in self._tag_ids:
            return self._tag_ids[tag]

        def find():
            found = self._objects(TAGS, self.tag_query(tag))
            return found[0] if found else None

        found = find()
        if found is None and create:
            try:
                found = self._create(TAGS, self.tag_body(tag), find, 'the tag %r' % tag, TAGS)
            except HttpError as exc:
                # Made meanwhile by another process? (Nautobot answers that race with a 500 IntegrityError.)
                found = find() if exc.status not in (401, 403) else None
                if found is None:
                    raise BackendError('%s. Create the tag %r in %s (for IP addresses and prefixes), or let the token '
                                       'add tags' % (str(exc).rstrip('.'), tag, self.product)) from None
        if found is None:
            return None
        self._tag_ids[tag] = found['id']
        return found['id']

    def _ours(self, obj):
        tag_id = self._tag_id(TAG)
        return tag_id is not None and any(isinstance(tag, dict) and tag.get('id') == tag_id for tag in obj.get('tags') or ())

    # -- names on objects -----------------------------------------------------------

    def _check_name(self, name):
        if not isinstance(name, str) or not name.strip():
            raise InvalidInputError('An allocation needs a non-empty "name" (the idempotency key, e.g. the inventory hostname)')
        name = str(name)
        if name != name.strip():
            raise InvalidInputError('Name %r starts or ends with white space, which %s does not keep: trim it' % (name, self.product))
        if self.key_field is None and SEPARATOR in name:
            raise InvalidInputError('Name %r contains %r, which separates the name from the description on the %s backend: '
                                    'choose another name or set key_field' % (name, SEPARATOR, self.name))
        return name

    def _key_fields(self, name, description):
        if self.key_field is not None:
            return {'custom_fields': {self.key_field: name}, 'description': description or ''}
        return {'description': name if description is None else name + SEPARATOR + description}

    def _name_filter(self, kind, name):
        """Parameters that narrow a list to ``name`` (loosely: the exact match is checked on what comes back)."""
        if self.key_field is not None:
            return {'cf_%s' % self.key_field: name}
        if kind == PREFIX and not self.prefix_description_filter:
            return {}
        return {'description__isw': name}

    def _name_of(self, obj, name=None):
        """``(name, description)`` kept on ``obj``; with ``name``, None unless it is exactly that name."""
        if self.key_field is not None:
            found = (obj.get('custom_fields') or {}).get(self.key_field)
            found = str(found) if found not in (None, '') else None
            if name is not None and found != name:
                found = None
            return found, _clean(obj.get('description'))
        text = obj.get('description') or ''
        if name is not None:
            if text == name:
                return name, None
            if text.startswith(name + SEPARATOR):
                return name, _clean(text[len(name) + len(SEPARATOR):])
            return None, None
        found, separator, rest = text.partition(SEPARATOR)
        return found or None, _clean(rest) if separator else None

    def _record(self, kind, obj, name=None):
        found, description = self._name_of(obj, name)
        if kind == ADDRESS:
            value = _address_value(obj['address'])
            return Record(ADDRESS, found, value, value, description, _clean(obj.get('dns_name')))
        network = parse_network(obj['prefix'], strict=False)
        return Record(PREFIX, found, network.first, network.last, description)

    def _belongs(self, kind, pool, obj):
        if kind == ADDRESS:
            version, value = parse_address(obj['address'].split('/', 1)[0])
            length = int(obj['address'].split('/', 1)[1])
            return version == pool.network.version and value in pool.network and length == pool.network.prefix_length
        return self.is_direct_child(pool, obj)

    def _kind_filter(self, kind, pool):
        if kind == ADDRESS:
            return dict(self.ips_in(pool.cidr), mask_length=pool.network.prefix_length)
        return self.children_filter(pool)

    def _find(self, kind, pool, name):
        """The object ``name`` holds in ``pool``: one query, then an exact check of what it returned.

        The servers do not keep names unique, so a name can hold several objects: a POST whose answer was lost and
        that landed after it was sent again, or two tasks allocating one name at once.  The object the server made
        first is kept and the others are deleted (in check mode only said), so every task reports the same one.
        """
        params = dict(self.scope(), **self.tag_filter(TAG))
        params.update(self._kind_filter(kind, pool))
        params.update(self._name_filter(kind, name))
        found = sorted((obj for obj in self._list(_PATHS[kind], params)
                        if self._name_of(obj, name)[0] == name and self._belongs(kind, pool, obj)), key=self.creation_order)
        return self._one_per_name(kind, pool, name, found)

    def _describe(self, kind, obj):
        """Words for the holder of an address or prefix: its name when it is ours."""
        if self._ours(obj):
            name = self._name_of(obj)[0]
            if name is not None:
                return repr(name)
        what = obj.get('address') or obj.get('prefix')
        description = obj.get('description')
        return '%s %s %s (id %s%s), which ipam.allocator did not make' % (
            self.product, _WORDS[kind], what, obj['id'], ', description %r' % description if description else '')

    # -- pools ----------------------------------------------------------------------

    def _network(self, pool):
        if not isinstance(pool, str) or '/' not in pool:
            raise InvalidInputError('Invalid pool %r: on the %s backend a pool is a prefix given by its CIDR, such as 10.0.0.0/24'
                                    % (pool, self.name))
        return parse_network(str(pool), what='pool')

    def _find_pool(self, pool):
        network = self._network(pool)
        found = self._server_pool(network)
        overlay = self._overlay()
        if not overlay:
            return found
        cidr = network.text()
        if cidr in overlay.dropped:
            return None
        made = overlay.pools.get(cidr, {})
        if found is not None:
            new_gateway = made.get('gateway') is not None and found.settings.gateway is None
            new_ranges = made.get('ranges') is not None and made['ranges'] != _range_texts(found.settings)
            if not new_gateway and not new_ranges:
                return found
            settings = PoolSettings.from_params(
                cidr, cidr, ranges=made['ranges'] if new_ranges else _range_texts(found.settings),
                gateway=made['gateway'] if new_gateway else _gateway_text(found.settings), description=found.settings.description)
            return RemotePool(settings, found.obj, gateway_on_server=found.gateway_on_server,
                              range_objs=() if new_ranges else found.range_objs, ranges_predicted=new_ranges)
        child = overlay.child_prefix(cidr)
        if not made and child is None:
            return None
        # Made by an earlier check-mode task: an ip_pool task, or an ip_prefix task whose prefix the server would hold.
        description = made.get('description')
        if description is None and child is not None:
            description = _clean(self._key_fields(child.name, child.description)['description'])
        return RemotePool(PoolSettings.from_params(cidr, cidr, ranges=made.get('ranges'), gateway=made.get('gateway'),
                                                   description=description), None)

    def _server_pool(self, network):
        cidr = network.text()
        if cidr in self._pools:
            return self._pools[cidr]
        found = self._list(PREFIXES, dict(self.scope(), prefix=cidr))
        if not found:
            return None
        if len(found) > 1:
            raise BackendError('%s has %d prefixes %s %s (ids %s); a pool must be one: delete the duplicates' % (
                self.product, len(found), cidr, self.scope_text(), ', '.join(str(obj['id']) for obj in found)))
        gateway = self._gateway(network)
        range_objs = self._ranges_in(network) if self.ip_ranges else []
        settings = PoolSettings.from_params(cidr, cidr, ranges=[_range_text(obj) for obj in range_objs],
                                            gateway=None if gateway is None else gateway[0],
                                            description=_clean(found[0].get('description')))
        self._pools[cidr] = RemotePool(settings, found[0], gateway_on_server=gateway is not None, range_objs=range_objs)
        return self._pools[cidr]

    def _ranges_in(self, network):
        """Our IP range objects made for the pool ``network`` (not those of pools nested in it), lowest first."""
        params = dict(self.scope(), parent=network.text(), **self.tag_filter(TAG))
        found = []
        for obj in self._list(RANGES, params):
            if obj.get('description') != _range_description(network):
                continue
            version, first = parse_address(obj['start_address'].split('/', 1)[0])
            last = _address_value(obj['end_address'])
            if version == network.version and network.contains_block(first, last):
                found.append((first, obj))
        return [obj for _first, obj in sorted(found, key=lambda item: item[0])]

    # -- check mode: predictions of earlier check-mode tasks (remote_predictions.py) ----------

    def _server_key(self):
        return '%s %s %s' % (self.name, self.http.base, self.scope_text())

    def _overlay(self):
        # Predictions are for check mode: a real change (``_checking`` False) sees the server alone.
        steps = list(self.pending) + self.predicted if self._checking is not False else []
        return Overlay(self._server_key() if steps else None, steps)

    def _predict(self, operation, pool, record=None, **settings):
        if record is not None:
            settings['version'] = pool.network.version
        self.predicted.append(prediction(self._server_key(), operation, pool.cidr, record=record, **settings))

    def _current(self, kind, pool, name):
        """``(server object, Record)`` that ``name`` holds in ``pool`` (either may be None), predictions included."""
        obj = None if pool.predicted else self._find(kind, pool, name)
        predicted = self._overlay().holding(kind, pool.cidr, name)
        if predicted is RELEASED:
            return None, None
        if predicted is not None:
            return obj, predicted
        return obj, None if obj is None else self._record(kind, obj, name)

    def _pool(self, pool):
        found = self._find_pool(pool)
        if found is None:
            raise PoolNotFoundError('Prefix %s does not exist in %s %s: create it with ipam.allocator.ip_pool or in %s' % (
                self._network(pool).text(), self.product, self.scope_text(), self.product))
        return found

    def _gateway(self, network):
        """``(address text, object)`` of the lowest usable IP address in ``network`` tagged ``gateway``, or None."""
        params = dict(self.scope(), **self.ips_in(network.text()))
        params.update(self.tag_filter(GATEWAY_TAG))
        low, high = network.usable_bounds()
        for obj in sorted(self._list(IPS, params), key=lambda obj: _address_value(obj['address'])):
            version, value = parse_address(obj['address'].split('/', 1)[0])
            if version == network.version and low <= value <= high:
                return format_address(version, value), obj
        return None

    def _used(self, pool):
        """IP address objects inside the prefix, except the gateway and placeholders on the network or broadcast address."""
        network = pool.network
        overlay = self._overlay()
        predicted = overlay.net_change(ADDRESS, pool.cidr)
        if pool.settings.ranges:    # only what its ranges hold counts (but the gateway)
            allowed = pool.settings.allowed_for_address
            held = self._list(IPS, dict(self.scope(), **self.ips_in(pool.cidr)))
            return max(sum(1 for obj in held if allowed(_address_value(obj['address'])) is None) + predicted, 0)
        used = self._count(IPS, dict(self.scope(), **self.ips_in(pool.cidr))) + predicted
        if pool.gateway_on_server:
            used -= 1
        low, high = network.usable_bounds()
        edges = [value for value in (network.first, network.last) if not low <= value <= high]
        if edges and used:
            used -= self._count(IPS, dict(self.scope(), address=sorted({format_address(network.version, value) for value in edges})))
        return max(used, 0)

    def _pool_view(self, pool):
        return pool_view(pool.settings, self._used(pool))

    def _exhausted(self, pool):
        size = pool.settings.size()
        return PoolExhaustedError('Failed to allocate an address in pool %r: exhausted (%d of %d used). '
                                  'Release addresses or widen the pool.' % (pool.cidr, min(self._used(pool), size), size))

    # -- reading ----------------------------------------------------------------------

    @scrubbed
    def pools(self, name=None):
        # Reads show the server as it is, as the file backend shows its store: no predictions.
        if name is not None:
            found = self._server_pool(self._network(name))
            return [] if found is None else [self._pool_view(found)]
        # Every prefix of a VRF could be thousands: list the pools that hold allocations of ours.
        cidrs = set()
        for obj in self._list(IPS, dict(self.scope(), **self.tag_filter(TAG))):
            if self._name_of(obj)[0] is not None:
                cidrs.add(parse_network(obj['address'], strict=False).text())
        for obj in self._list(PREFIXES, dict(self.scope(), **self.tag_filter(TAG))):
            if self._name_of(obj)[0] is not None:
                parent = self.parent_cidr(obj)
                if parent is not None:
                    cidrs.add(parent)
        pools = [found for found in (self._server_pool(self._network(cidr)) for cidr in cidrs) if found is not None]
        pools.sort(key=lambda pool: (pool.network.version, pool.network.first, pool.network.prefix_length))
        return [self._pool_view(found) for found in pools]

    def _settings_for(self, cidr):
        found = self._find_pool(cidr)
        return found.settings if found is not None else PoolSettings.from_params(cidr, cidr)

    def _records(self, kind, pool, name, params):
        """Record views of our objects of ``kind``: in ``pool`` (or anywhere in scope), optionally of ``name``."""
        params = dict(params, **self.scope())
        params.update(self.tag_filter(TAG))
        if name is not None:
            name = str(name)
            params.update(self._name_filter(kind, name))
        found = None
        if pool is not None:
            found = self._server_pool(self._network(pool))
            if found is None:
                return []
            params.update(self._kind_filter(kind, found))
        views = []
        for obj in self._list(_PATHS[kind], params):
            record = self._record(kind, obj, name)
            if record.name is None or (found is not None and not self._belongs(kind, found, obj)):
                continue
            if found is not None:
                settings = found.settings
            elif kind == ADDRESS:
                settings = self._settings_for(parse_network(obj['address'], strict=False).text())
            else:
                parent = self.parent_cidr(obj)
                if parent is None:
                    continue
                settings = self._settings_for(parent)
            views.append((settings.network.version, settings.network.first, settings.network.prefix_length, record.first,
                          record_view(settings, record)))
        return [item[-1] for item in sorted(views, key=lambda item: item[:-1])]

    @scrubbed
    def allocations(self, pool=None, name=None, address=None):
        params = {}
        if address is not None:
            params['address'] = format_address(*parse_address(str(address).split('/', 1)[0]))
        return self._records(ADDRESS, pool, name, params)

    @scrubbed
    def peek(self, pool, count=1):
        found = self._pool(pool)
        free = self._free_addresses(found, count)
        if len(free) < count:
            if not free:
                raise self._exhausted(found)
            raise PoolExhaustedError('Pool %r has only %d free address(es), %d were asked for: exhausted'
                                     % (found.cidr, len(free), count))
        return [record_view(found.settings, Record(ADDRESS, None, value, value)) for value in free]

    def _free_addresses(self, pool, count):
        """The next ``count`` free addresses that our rules allow: the server's (it may offer network or broadcast),
        less those earlier check-mode tasks predicted to take, plus those they predicted to release."""
        overlay = self._overlay()
        taken = {record.first for record in overlay.taken(ADDRESS, pool.cidr)}
        allowed = pool.settings.allowed_for_address
        if pool.predicted or pool.ranges_predicted:   # not on the server as predicted: free is what no object holds
            held = {_address_value(obj['address'])
                    for obj in self._list(IPS, dict(self.scope(), **self.ips_in(pool.cidr)))}
            held.difference_update(record.first for record in overlay.freed(ADDRESS, pool.cidr))
            free = []
            for value, high in pool.settings.address_space():
                while value <= high and len(free) < count:
                    if value not in held and value not in taken and allowed(value) is None:
                        free.append(value)
                    value += 1
            return free
        values = set()
        for path in self._available_ips_paths(pool):
            values.update(first for first, _last in free_blocks(self.http.get(path, {'limit': count + 2 + len(taken)}), pool))
            if len(values - taken) >= count + 2:
                break
        values.update(record.first for record in overlay.freed(ADDRESS, pool.cidr))
        return [value for value in sorted(values - taken) if allowed(value) is None][:count]

    @staticmethod
    def _available_ips_paths(pool):
        """Where the server hands out the pool's addresses, lowest first: its IP ranges, or the whole prefix."""
        if pool.range_objs:
            return ['%s%s/available-ips/' % (RANGES, obj['id']) for obj in pool.range_objs]
        return [pool.path + 'available-ips/']

    # -- pools: ip_pool -------------------------------------------------------------------

    @scrubbed
    def ensure_pool(self, params, check_mode=False):
        self._checking = check_mode
        cidr_text = params.get('cidr') if params.get('cidr') is not None else params.get('name')
        network = self._network(cidr_text)
        cidr = network.text()
        if params.get('name') is not None and (not isinstance(params['name'], str) or '/' not in params['name']
                                               or self._network(params['name']).text() != cidr):
            raise InvalidInputError('On the %s backend a pool is the prefix named by its CIDR: set name to %s (the same as cidr)'
                                    % (self.name, cidr))
        unsupported = ('reserved', 'min_prefix_length', 'max_prefix_length', 'default_prefix_length')
        for key in unsupported if self.ip_ranges else ('ranges',) + unsupported:
            if params.get(key) not in (None, [], ()):
                raise InvalidInputError('%s is not supported by the %s backend, where a pool is a whole prefix%s: drop it, and '
                                        'use %s itself (reserved IP addresses) to keep addresses out' % (
                                            key, self.name, '' if self.ip_ranges else ' (%s has no IP ranges)' % self.product,
                                            self.product))
        if params.get('parent') is not None:
            parent = self._pool(params['parent'])
            if not (parent.network.version == network.version and parent.network.contains_block(network.first, network.last)
                    and parent.network.prefix_length < network.prefix_length):
                raise InvalidInputError('Pool %s is not inside its parent %s' % (cidr, parent.cidr))
        description = _clean(params.get('description'))
        ranges = params.get('ranges') if self.ip_ranges else None     # None: leave the server's ranges as they are
        wanted = PoolSettings.from_params(cidr, cidr, ranges=ranges, gateway=params.get('gateway'), description=description)
        for first, last in wanted.ranges:
            if first == last:
                raise InvalidInputError('Range %s of pool %s is a single address, which %s cannot hold as an IP range: '
                                        'give a range of two addresses or more' % (format_address(network.version, first),
                                                                                   cidr, self.product))
        if len(wanted.ranges) > 1:     # the server lists IP ranges lowest first
            wanted = PoolSettings.from_params(cidr, cidr, ranges=_range_texts(wanted), gateway=params.get('gateway'),
                                              description=description)
        gateway = _gateway_text(wanted)
        current = self._find_pool(cidr)
        if current is None:
            after = pool_view(wanted, 0)
            if check_mode:
                self._predict(POOL, RemotePool(wanted, None), gateway=gateway, description=description,
                              ranges=_range_texts(wanted) if ranges is not None else None)
                return Outcome(True, None, after)
            if gateway is not None:
                self._check_free(network, wanted.gateway, 'gateway %s of pool %s' % (gateway, cidr))
            body = dict(self.scope_fields(), **self.status_fields())
            body.update(prefix=cidr, description=description or '')
            self._create(PREFIXES, body, lambda: single(self._list(PREFIXES, dict(self.scope(), prefix=cidr))),
                         'the prefix %s' % cidr, PREFIXES)
            self._pools.pop(cidr, None)
            if gateway is not None:
                self._make_gateway(network, gateway)
            self._set_ranges(network, [], wanted.ranges)
            return Outcome(True, None, after)
        before = self._pool_view(current)
        changes = {}
        if description is not None and description != current.settings.description:
            changes['description'] = description
        new_gateway = gateway is not None and wanted.gateway != current.settings.gateway
        if new_gateway and current.settings.gateway is not None:
            raise InvalidInputError('Prefix %s already has the gateway %s (the IP address tagged %r in it): change it in %s' % (
                cidr, format_address(network.version, current.settings.gateway), GATEWAY_TAG, self.product))
        new_ranges = ranges is not None and sorted(wanted.ranges) != sorted(current.settings.ranges)
        if not changes and not new_gateway and not new_ranges:
            return Outcome(False, before, before)
        settings = PoolSettings.from_params(cidr, cidr, ranges=_range_texts(wanted if new_ranges else current.settings),
                                            gateway=gateway if new_gateway else _gateway_text(current.settings),
                                            description=changes.get('description', current.settings.description))
        if new_gateway:
            self._check_free(network, wanted.gateway, 'gateway %s of pool %s' % (gateway, cidr))
        if new_ranges:
            self._check_ranges_keep_allocations(current, settings)
        after = pool_view(settings, before['used'])
        if check_mode:
            self._predict(POOL, current, gateway=gateway if new_gateway else None, description=changes.get('description'),
                          ranges=_range_texts(settings) if new_ranges else None)
            return Outcome(True, before, after)
        if changes:
            self.http.patch(current.path, changes)
        if new_gateway:
            self._make_gateway(network, gateway)
        if new_ranges:
            self._set_ranges(network, current.range_objs, wanted.ranges)
        self._pools.pop(cidr, None)
        return Outcome(True, before, after)

    def _check_ranges_keep_allocations(self, pool, settings):
        """New ranges never strand an allocation of ours (as on the file backend)."""
        for view in self.allocations(pool=pool.cidr) if pool.obj is not None else ():
            if not any(low <= parse_address(view['address'])[1] <= high for low, high in settings.address_space()):
                raise PoolInUseError('Cannot change the ranges of pool %r: address %s held by %r would fall outside them. '
                                     'Release it first.' % (pool.cidr, view['address'], view['name']))

    def _set_ranges(self, network, range_objs, ranges):
        """Make the pool's IP range objects exactly ``ranges`` ([(first, last)]): delete ours that go, create those that come."""
        wanted = set(ranges)
        for obj in range_objs:
            first = _address_value(obj['start_address'])
            last = _address_value(obj['end_address'])
            if (first, last) in wanted:
                wanted.discard((first, last))
            else:
                self._delete(IP_RANGE, obj)
        if wanted:
            self._tag_id(TAG, create=True)
        for first, last in sorted(wanted):
            start, end = ('%s/%d' % (format_address(network.version, value), network.prefix_length) for value in (first, last))
            body = dict(self.scope_fields(), **self.status_fields())
            body.update(start_address=start, end_address=end, tags=[self.tag_ref(TAG)], description=_range_description(network))
            self._create(RANGES, body, lambda start=start: single(self._list(RANGES, dict(self.scope(), start_address=start))),
                         'the IP range %s-%s' % (start, end), RANGES)

    def _check_free(self, network, value, what):
        holder = self._holder(network, value)
        if holder is not None:
            raise ConflictError('Cannot make %s: the address is held by %s' % (what, holder))

    def _make_gateway(self, network, gateway):
        self._tag_id(GATEWAY_TAG, create=True)
        body = dict(self.scope_fields(), **self.status_fields())
        body.update(address='%s/%d' % (gateway, network.prefix_length), description='gateway', tags=[self.tag_ref(GATEWAY_TAG)])
        self._create(IPS, body, lambda: (self._gateway(network) or (None, None))[1], 'the gateway %s' % gateway, IPS)

    @scrubbed
    def remove_pool(self, name, force=False, check_mode=False):
        self._checking = check_mode
        current = self._find_pool(name)
        if current is None:
            return Outcome(False, None, None)
        before = self._pool_view(current)
        overlay = self._overlay()
        prefixes = (self._count(PREFIXES, dict(self.scope(), within=current.cidr))
                    + overlay.net_change(PREFIX, current.cidr))
        if (before['used'] or prefixes) and not force:
            raise PoolInUseError('Pool %r still holds %d IP address(es) and %d prefix(es) in %s; release them or set force: true'
                                 % (current.cidr, before['used'], prefixes, self.product))
        if check_mode:
            self._predict(DROP, current)
        else:
            if force:
                self._delete_ours_in(current.cidr)
            gateway = self._gateway(current.network)
            if gateway is not None:     # a setting of the pool, like its description: it goes with it
                self._delete(ADDRESS, gateway[1])
            for obj in current.range_objs:     # so are its IP ranges
                self._delete(IP_RANGE, obj)
            try:
                self.http.delete(current.path)
            except HttpError as exc:
                if exc.status != 409:
                    raise
                raise PoolInUseError('%s refuses to delete prefix %s: %s. Delete those objects first (ipam.allocator '
                                     'only deletes what it made)' % (self.product, current.cidr, exc)) from None
            self._pools.pop(current.cidr, None)
        return Outcome(True, before, None)

    def _delete_ours_in(self, cidr):
        """Delete the allocations this collection made inside ``cidr``; other objects stay."""
        for kind, where in ((ADDRESS, self.ips_in(cidr)), (PREFIX, {'within': cidr})):
            params = dict(self.scope(), **self.tag_filter(TAG))
            params.update(where)
            for obj in self._list(_PATHS[kind], params):
                if self._name_of(obj)[0] is not None:
                    self._delete(kind, obj)

    # -- addresses ----------------------------------------------------------------------

    def _find_at(self, pool, name, address):
        found = [obj for obj in self._list(IPS, dict(self.scope(), address=address.split('/')[0], **self.tag_filter(TAG)))
                 if self._name_of(obj, name)[0] == name and self._belongs(ADDRESS, pool, obj)]
        return found[0] if found else None

    def _holder(self, network, value):
        """Words for the object that holds address ``value``, or None when it is free."""
        text = format_address(network.version, value)
        found = self._list(IPS, dict(self.scope(), address=text))
        return self._describe(ADDRESS, found[0]) if found else None

    def _new_body(self, kind, name, description, dns_name=None):
        body = dict(self.status_fields())
        body['tags'] = [self.tag_ref(TAG)]
        body.update(self._key_fields(name, description))
        if dns_name is not None:
            body['dns_name'] = dns_name
        return body

    @scrubbed
    def allocate(self, pool, name, address=None, mac=None, description=None, dns_name=None, check_mode=False):
        self._checking = check_mode
        found = self._pool(pool)
        settings = found.settings
        name = self._check_name(name)
        description, dns_name = _clean(description), _clean(dns_name)
        wanted = requested_address(settings, address, mac)
        current_obj, current = self._current(ADDRESS, found, name)
        if current is not None and (wanted is None or wanted == current.first):
            after = _updated(current, description, dns_name)
            changed = not current.same_as(after)
            if changed and check_mode:
                self._predict(TAKE, found, after, replaces=format_address(settings.version, current.first))
            elif changed:
                body = self._key_fields(name, after.description)
                body['dns_name'] = after.dns_name or ''
                self.http.patch('%s%s/' % (IPS, current_obj['id']), body)
            return Outcome(changed, record_view(settings, current), record_view(settings, after))
        if wanted is None:
            if check_mode:
                free = self._free_addresses(found, 1)
                if not free:
                    raise self._exhausted(found)
                after = Record(ADDRESS, name, free[0], free[0], description, dns_name)
            else:
                after = self._record(ADDRESS, self._allocate_next(found, name, description, dns_name), name)
        else:
            text = format_address(settings.version, wanted)
            reason = settings.allowed_for_address(wanted)
            if reason is not None:
                raise OutOfPoolError('Cannot allocate %s to %r: the address is %s' % (text, name, reason))
            holder = self._address_holder(found, wanted)
            if holder is not None:
                raise ConflictError('Cannot allocate %s to %r in pool %r: it is already held by %s. '
                                    'Release it first or ask for another address.' % (text, name, found.cidr, holder))
            after = Record(ADDRESS, name, wanted, wanted, description, dns_name)
            if not check_mode:
                after = self._record(ADDRESS, self._allocate_at(found, name, wanted, current_obj, description, dns_name), name)
        if check_mode:
            self._predict(TAKE, found, after, replaces=None if current is None else format_address(settings.version, current.first))
        return Outcome(True, record_view(settings, current), record_view(settings, after))

    def _address_holder(self, pool, value):
        """Words for what holds address ``value`` of ``pool`` (predictions first), or None when it is free."""
        predicted = self._overlay().holder_of(ADDRESS, pool.cidr, value)
        if predicted is not None:
            return None if predicted[1] is RELEASED else repr(predicted[0])
        return self._holder(pool.network, value)

    def _allocate_next(self, pool, name, description, dns_name):
        """POST to the available-ips of the prefix (or of its IP ranges, in order): the server picks and creates the
        address atomically."""
        body = self._new_body(ADDRESS, name, description, dns_name)
        for path in self._available_ips_paths(pool):
            obj = self._allocate_next_at(path, pool, name, body)
            if obj is not None:
                return obj
        raise self._exhausted(pool)

    def _allocate_at(self, pool, name, value, current_obj, description, dns_name):
        address = '%s/%d' % (format_address(pool.network.version, value), pool.network.prefix_length)
        try:
            if current_obj is not None and self.can_move_address:   # the name moves: one atomic change of its address
                body = self._key_fields(name, description)
                body.update(address=address, dns_name=dns_name or '')
                response = self.http.patch('%s%s/' % (IPS, current_obj['id']), body)
                if problem(IPS, response.data) is not None:
                    raise response.invalid(problem(IPS, response.data))
                return response.data
            body = self._new_body(ADDRESS, name, description, dns_name)
            body.update(self.scope_fields())
            body['address'] = address
            if current_obj is not None:
                # The server cannot change an address: make the new one, then drop the old one.
                created = self._create(IPS, body, lambda: self._find_at(pool, name, address), 'the address of %r' % name, IPS)
                self._delete(ADDRESS, current_obj)
                return created
            self._create(IPS, body, lambda: self._find(ADDRESS, pool, name), 'the address of %r' % name, IPS)
        except HttpError as exc:
            holder = self._holder(pool.network, value) if exc.status == 400 else None
            if holder is None:
                raise
            raise ConflictError('Cannot allocate %s to %r in pool %r: it is already held by %s. Release it first or ask '
                                'for another address.' % (address.split('/')[0], name, pool.cidr, holder)) from None
        held = self._confirmed(ADDRESS, pool, name)
        if _address_value(held['address']) != value:
            raise ConflictError('Cannot allocate %s to %r in pool %r: another task gave %r %s at the same time' % (
                address.split('/')[0], name, pool.cidr, name, held['address'].split('/')[0]))
        return held

    @scrubbed
    def release(self, pool, name=None, address=None, check_mode=False):
        self._checking = check_mode
        found = self._pool(pool)
        settings = found.settings
        if name is None and address is None:
            raise InvalidInputError('Releasing needs "name" or "address"')
        current_obj, current = self._current(ADDRESS, found, self._check_name(name)) if name is not None else (None, None)
        if address is not None:
            wanted = requested_address(settings, address)
            predicted = self._overlay().holder_of(ADDRESS, found.cidr, wanted)
            if name is not None:
                if current is not None and current.first != wanted:
                    raise ConflictError('%r holds %s in pool %r, not %s; nothing was released' % (
                        name, format_address(settings.version, current.first), found.cidr, address))
            elif predicted is not None:
                current = None if predicted[1] is RELEASED else predicted[1]
            else:
                held = self._list(IPS, dict(self.scope(), address=format_address(settings.version, wanted)))
                if held and (not self._ours(held[0]) or self._name_of(held[0])[0] is None):
                    raise ConflictError('%s in pool %r is held by %s; nothing was released' % (
                        address, found.cidr, self._describe(ADDRESS, held[0])))
                current_obj = held[0] if held else None
                current = None if current_obj is None else self._record(ADDRESS, current_obj)
        if current is None:
            return Outcome(False, None, None)
        if check_mode:
            self._predict(FREE, found, current)
        else:
            self._delete(ADDRESS, current_obj)
        return Outcome(True, record_view(settings, current), None)

    # -- prefixes -----------------------------------------------------------------------

    @scrubbed
    def prefixes(self, pool=None, name=None, prefix=None):
        params = {}
        if prefix is not None:
            params['prefix'] = parse_network(str(prefix), what='prefix').text()
        return self._records(PREFIX, pool, name, params)

    def _free_prefixes(self, pool, length, count):
        """First fit, lowest first, as the server's available-prefixes POST picks them."""
        bits = BITS[pool.network.version]
        size = 1 << (bits - length)
        if pool.predicted:     # no prefix on the server yet: all of it is free but the prefixes already inside
            free = [[pool.network.first, pool.network.last]]
            for obj in self._list(PREFIXES, dict(self.scope(), within=pool.cidr)):
                block = parse_network(obj['prefix'], strict=False)
                free = _without(free, block.first, block.last)
        else:
            free = [list(block) for block in free_blocks(self.http.get(pool.path + 'available-prefixes/', {'limit': 1000}), pool)]
        overlay = self._overlay()
        for record in overlay.freed(PREFIX, pool.cidr):
            free = _without(free, record.first, record.last) + [[record.first, record.last]]
        for record in overlay.taken(PREFIX, pool.cidr):
            free = _without(free, record.first, record.last)
        free = _merged(free)
        found = []
        while len(found) < count:
            for interval in sorted(free):
                first, last = interval
                start = -(-first // size) * size    # the first aligned block inside
                if start + size - 1 <= last:
                    found.append(start)
                    free.remove(interval)
                    free.extend(part for part in ([first, start - 1], [start + size, last]) if part[0] <= part[1])
                    break
            else:
                break
        return found

    @scrubbed
    def peek_prefix(self, pool, prefix_length=None, count=1):
        found = self._pool(pool)
        length = requested_length(found.settings, prefix_length)
        free = self._free_prefixes(found, length, count)
        if len(free) < count:
            raise PoolExhaustedError('Pool %r has room for %d more /%d prefix(es), %d were asked for: exhausted'
                                     % (found.cidr, len(free), length, count))
        size = 1 << (found.network.bits - length)
        return [record_view(found.settings, Record(PREFIX, None, first, first + size - 1)) for first in free]

    @scrubbed
    def allocate_prefix(self, pool, name, prefix_length=None, prefix=None, description=None, check_mode=False):
        self._checking = check_mode
        found = self._pool(pool)
        settings = found.settings
        name = self._check_name(name)
        description = _clean(description)
        current_obj, current = self._current(PREFIX, found, name)
        wanted = length = None
        if prefix is not None:
            child = parse_network(str(prefix), what='prefix')
            if child.version != settings.version:
                raise OutOfPoolError('Prefix %s is not IPv%d like pool %r' % (prefix, settings.version, found.cidr))
            if prefix_length is not None and prefix_length != child.prefix_length:
                raise InvalidInputError('prefix %s and prefix_length %s disagree' % (prefix, prefix_length))
            length = requested_length(settings, child.prefix_length)
            wanted = child.first
        elif current is None or prefix_length is not None:
            length = requested_length(settings, prefix_length)
        if current is not None:
            if (length is None or current.prefix_length(settings.version) == length) and wanted in (None, current.first):
                after = _updated(current, description, None)
                changed = not current.same_as(after)
                if changed and check_mode:
                    self._predict(TAKE, found, after, replaces=record_view(settings, current)['prefix'])
                elif changed:
                    self.http.patch('%s%s/' % (PREFIXES, current_obj['id']), self._key_fields(name, after.description))
                return Outcome(changed, record_view(settings, current), record_view(settings, after))
            raise ConflictError('%r already holds %s in pool %r; release it before asking for %s' % (
                name, record_view(settings, current)['prefix'], found.cidr, prefix if prefix is not None else '/%d' % length))
        size = 1 << (settings.network.bits - length)
        if wanted is None:
            if check_mode:
                free = self._free_prefixes(found, length, 1)
                if not free:
                    raise self._prefix_exhausted(found, length)
                after = Record(PREFIX, name, free[0], free[0] + size - 1, description)
            else:
                after = self._record(PREFIX, self._allocate_next_prefix(found, name, length, description), name)
        else:
            text = '%s/%d' % (format_address(settings.version, wanted), length)
            if not settings.network.contains_block(wanted, wanted + size - 1):
                raise OutOfPoolError('Prefix %s is outside pool %r (%s)' % (prefix, found.cidr, found.cidr))
            holder = self._prefix_holder(found, text, wanted, wanted + size - 1)
            if holder is not None:
                raise ConflictError('Cannot allocate %s to %r in pool %r: it overlaps %s' % (text, name, found.cidr, holder))
            after = Record(PREFIX, name, wanted, wanted + size - 1, description)
            if not check_mode:
                body = self._new_body(PREFIX, name, description)
                body.update(self.scope_fields())
                body['prefix'] = text
                self._create(PREFIXES, body, lambda: self._find(PREFIX, found, name), 'the prefix of %r' % name, PREFIXES)
                held = self._confirmed(PREFIX, found, name)
                if parse_network(held['prefix'], strict=False).text() != text:
                    raise ConflictError('Cannot allocate %s to %r in pool %r: another task gave %r %s at the same time' % (
                        text, name, found.cidr, name, held['prefix']))
        if check_mode:
            self._predict(TAKE, found, after)
        return Outcome(True, None, record_view(settings, after))

    def _prefix_exhausted(self, pool, length):
        return PoolExhaustedError('Failed to allocate a /%d in pool %r: exhausted (no free block of that size left). '
                                  'Release prefixes, ask for a longer prefix_length or widen the pool.' % (length, pool.cidr))

    def _prefix_holder(self, pool, text, first, last):
        """Words for a prefix inside ``pool`` that overlaps ``text`` (``first``-``last``), predictions first, or None."""
        for record in self._overlay().taken(PREFIX, pool.cidr):
            if record.first <= last and first <= record.last:
                return repr(record.name)
        found = self._list(PREFIXES, dict(self.scope(), within_include=text))
        found = found or self._list(PREFIXES, dict(self.scope(), contains=text, within=pool.cidr))
        return self._describe(PREFIX, found[0]) if found else None

    @scrubbed
    def release_prefix(self, pool, name=None, prefix=None, force=False, check_mode=False):
        self._checking = check_mode
        found = self._pool(pool)
        if name is None and prefix is None:
            raise InvalidInputError('Releasing a prefix needs "name" or "prefix"')
        current_obj, current = self._current(PREFIX, found, self._check_name(name)) if name is not None else (None, None)
        if prefix is not None:
            child = parse_network(str(prefix), what='prefix')
            if child.version != found.network.version:
                raise OutOfPoolError('Prefix %s is not IPv%d like pool %r' % (prefix, found.network.version, found.cidr))
            predicted = self._overlay().holder_of(PREFIX, found.cidr, child.first)
            if name is not None:
                if current is not None and (current.first, current.last) != (child.first, child.last):
                    raise ConflictError('%r holds %s in pool %r, not %s; nothing was released' % (
                        name, record_view(found.settings, current)['prefix'], found.cidr, prefix))
            elif predicted is not None:
                current = None if predicted[1] is RELEASED or predicted[1].last != child.last else predicted[1]
            elif not found.predicted:
                held = [obj for obj in self._list(PREFIXES, dict(self.scope(), prefix=child.text()))
                        if self.is_direct_child(found, obj)]
                if held and (not self._ours(held[0]) or self._name_of(held[0])[0] is None):
                    raise ConflictError('%s in pool %r is %s; nothing was released' % (
                        child.text(), found.cidr, self._describe(PREFIX, held[0])))
                current_obj = held[0] if held else None
                current = None if current_obj is None else self._record(PREFIX, current_obj)
        if current is None:
            return Outcome(False, None, None)
        cidr = record_view(found.settings, current)['prefix']
        overlay = self._overlay()
        addresses = (self._count(IPS, dict(self.scope(), **self.ips_in(cidr)))
                     + overlay.net_change(ADDRESS, cidr))
        children = (self._count(PREFIXES, dict(self.scope(), within=cidr))
                    + overlay.net_change(PREFIX, cidr))
        if (addresses or children) and not force:
            raise PoolInUseError('Prefix %s of pool %r holds %d IP address(es) and %d prefix(es); release them first '
                                 'or set force: true' % (cidr, found.cidr, addresses, children))
        before = record_view(found.settings, current)
        if check_mode:
            self._predict(FREE, found, current)
        else:
            if force:
                self._delete_ours_in(cidr)
            self._delete(PREFIX, current_obj)
            self._pools.pop(cidr, None)
        return Outcome(True, before, None)
