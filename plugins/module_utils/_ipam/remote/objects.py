# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""The server's objects as the remote backends read them: where they live and what shape they must have.

Every object a NetBox or Nautobot answer brings in is checked here before the
backend reads a field of it, so an answer of the wrong shape (a proxy's page, a
broken server) is an error that names the request, never a ``KeyError`` later.
"""

from __future__ import annotations

from ..core.addresses import BITS, parse_address, parse_network
from ..core.errors import InvalidInputError

#: every object this collection makes carries this tag
TAG = 'ipam-allocator'
IPS = 'api/ipam/ip-addresses/'
PREFIXES = 'api/ipam/prefixes/'
RANGES = 'api/ipam/ip-ranges/'
TAGS = 'api/extras/tags/'
VRFS = 'api/ipam/vrfs/'
#: the items of GET .../available-ips/ and .../available-prefixes/: free space, not objects (no id)
FREE_ADDRESS = 'available-ips'
FREE_PREFIX = 'available-prefixes'

_ADDRESS_FIELDS = {IPS: ('address',), RANGES: ('start_address', 'end_address'), FREE_ADDRESS: ('address',)}
_PREFIX_FIELDS = {PREFIXES: ('prefix',), FREE_PREFIX: ('prefix',)}
# Fields read with .get(): absent is fine, another type is not.
_OPTIONAL = (('description', str), ('dns_name', str), ('tags', list), ('custom_fields', dict), ('vrf', dict),
             ('parent', dict), ('namespace', dict), ('_depth', int), ('created', str))


def problem(kind, obj):
    """Why ``obj`` is not an object of ``kind`` (one of the paths above) as the API returns it, or None."""
    if not isinstance(obj, dict):
        return 'an item is %s, not an object' % type(obj).__name__
    if kind not in (FREE_ADDRESS, FREE_PREFIX):
        ident = obj.get('id')
        if isinstance(ident, bool) or not isinstance(ident, (int, str)) or ident == '':
            return 'an object has no "id"'
    for field in _ADDRESS_FIELDS.get(kind, ()):
        if not _with_length(obj.get(field)):
            return '"%s" is %r, not an address with its prefix length' % (field, obj.get(field))
    for field in _PREFIX_FIELDS.get(kind, ()):
        if not _with_length(obj.get(field)):
            return '"%s" is %r, not a prefix' % (field, obj.get(field))
    for field, kind_of_value in _OPTIONAL:
        value = obj.get(field)
        if value is not None and (not isinstance(value, kind_of_value) or isinstance(value, bool)):
            return '"%s" is %r, not a %s' % (field, value, kind_of_value.__name__)
    return None


def single(data):
    """The object of an answer that holds one (a list of one, from endpoints that make several), or None."""
    if isinstance(data, list):
        return data[0] if data else None
    return data or None


def free_blocks(response, pool):
    """The free space a GET of available-ips or available-prefixes lists, as ``(first, last)``, each checked to be
    inside ``pool``: a server that offers more is not trusted with the rest."""
    kind, field = (FREE_PREFIX, 'prefix') if response.what.endswith('available-prefixes/') else (FREE_ADDRESS, 'address')
    if not isinstance(response.data, (list, type(None))):
        raise response.invalid('expected a list of free %ses' % field)
    blocks = []
    for item in response.data or ():
        reason = problem(kind, item)
        if reason is None:
            if kind == FREE_ADDRESS:
                version, first = parse_address(item[field].split('/', 1)[0])
                last = first
            else:
                block = parse_network(item[field], strict=False)
                version, first, last = block.version, block.first, block.last
            if version != pool.network.version or not pool.network.contains_block(first, last):
                reason = '%s is outside pool %s' % (item[field], pool.cidr)
        if reason is not None:
            raise response.invalid(reason)
        blocks.append((first, last))
    return blocks


def _with_length(text):
    """True for an address with a prefix length (``10.0.0.5/24``, ``2001:db8::/64``), as the API writes them.

    Checked on every object of every list, so without the ``ipaddress`` module (several times slower).
    """
    if not isinstance(text, str) or text.count('/') != 1:
        return False
    address, length = text.split('/')
    try:
        version = parse_address(address)[0]
    except InvalidInputError:
        return False
    return length.isdigit() and int(length) <= BITS[version]
