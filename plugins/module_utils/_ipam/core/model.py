# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""Pools and allocation records, and the one serializer of both.

The stores persist ``PoolSettings.to_doc()``/``Record.to_doc()``; modules, the
lookup, ``--diff`` and the inventory plugin all show ``pool_view()`` and
``record_view()``, so a value looks the same wherever a user meets it.
"""

from __future__ import annotations

import re
import unicodedata

from .addresses import (
    BITS,
    count_in,
    format_address,
    format_block,
    parse_address,
    parse_block,
    parse_network,
)
from .errors import InvalidInputError
from .intervals import IntervalSet

ADDRESS = 'address'
PREFIX = 'prefix'

#: Longest name (allocation or pool) in characters: room for a host name, an interface and a suffix, and
#: for NetBox's 200-character description, which holds the name when ``key_field`` is not set.
MAX_NAME_LENGTH = 200
#: Unicode categories a name may not hold: control and format characters, line and paragraph separators,
#: lone surrogates (they cannot be written as UTF-8), private-use and unassigned code points.
_FORBIDDEN_CATEGORIES = frozenset(('Cc', 'Cf', 'Zl', 'Zp', 'Cs', 'Co', 'Cn'))
_DNS_LABEL = re.compile(r'(?!-)[A-Za-z0-9-]{1,63}(?<!-)\Z')


def _kind_of(value):
    return {list: 'a list', tuple: 'a list', dict: 'a mapping', bool: 'a boolean'}.get(type(value), type(value).__name__)


def valid_name(value, what='name'):
    """``value`` as a plain str if it is a valid allocation or pool name, else InvalidInputError saying why.

    A name is the idempotency key and may become an inventory host name: a non-empty string of at
    most MAX_NAME_LENGTH printable characters, without white space at either end.
    """
    if not isinstance(value, str):
        raise InvalidInputError('Invalid %s: expected a string, got %s' % (what, _kind_of(value)))
    if not value.strip():
        raise InvalidInputError('An allocation needs a non-empty "name" (the idempotency key, e.g. the inventory hostname)'
                                if what == 'name' else 'Invalid %s: it is empty' % what)
    if len(value) > MAX_NAME_LENGTH:
        raise InvalidInputError('Invalid %s %r...: %d characters, at most %d are allowed' % (
            what, value[:40], len(value), MAX_NAME_LENGTH))
    # str.isprintable() is False for every forbidden category (and for some allowed ones, such as a
    # no-break space): only then is the name looked at character by character.
    for position, character in enumerate(() if value.isprintable() else value):
        if unicodedata.category(character) in _FORBIDDEN_CATEGORIES:
            raise InvalidInputError('Invalid %s %s: character %d is %s, which a name may not hold (only printable '
                                    'characters)' % (what, ascii(value), position + 1, ascii(character)))
    if value != value.strip():
        raise InvalidInputError('Invalid %s %r: it starts or ends with white space; trim it' % (what, value))
    return str(value)


def valid_dns_name(value):
    """A DNS name as RFC 1123 has it (letters, digits, hyphens; labels of 1-63; 253 in all; one final dot allowed).

    None means "not given"; an empty string means "clear it" and is returned as is.
    """
    if value is None or value == '':
        return value
    if not isinstance(value, str):
        raise InvalidInputError('Invalid dns_name: expected a string, got %s' % _kind_of(value))
    text = value[:-1] if value.endswith('.') else value
    if len(text) > 253 or not all(_DNS_LABEL.match(label) for label in text.split('.')):
        raise InvalidInputError('Invalid dns_name %s: a DNS name is dot-separated labels of 1 to 63 letters, digits and '
                                'hyphens, not starting or ending with a hyphen, 253 characters at most (RFC 1123)'
                                % ascii(value))
    return str(value)


def valid_text(value, what):
    """Free text (a description): any string that can be stored (no NUL, no lone surrogate)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInputError('Invalid %s: expected a string, got %s' % (what, _kind_of(value)))
    if '\0' in value or any(unicodedata.category(character) == 'Cs' for character in value):
        raise InvalidInputError('Invalid %s %s: it holds a NUL or a lone surrogate, which cannot be stored' % (
            what, ascii(value[:80])))
    return str(value)


def _text(value, what):
    """Plain ``str`` (ansible-core 2.19 hands over tagged subclasses that YAML refuses)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInputError('Invalid %s %r: expected a string' % (what, value))
    return str(value)


class PoolSettings:
    """A validated pool definition; addresses are ints, text only at the edges."""

    __slots__ = ('name', 'network', 'ranges', 'reserved', 'gateway', 'description',
                 'min_prefix_length', 'max_prefix_length', 'default_prefix_length', 'parent')

    def __init__(self, name, network, ranges=(), reserved=(), gateway=None, description=None,
                 min_prefix_length=None, max_prefix_length=None, default_prefix_length=None, parent=None):
        self.name = name
        self.network = network
        self.ranges = list(ranges)
        self.reserved = list(reserved)
        self.gateway = gateway
        self.description = description
        self.min_prefix_length = min_prefix_length
        self.max_prefix_length = max_prefix_length
        self.default_prefix_length = default_prefix_length
        self.parent = parent

    @classmethod
    def from_params(cls, name, cidr, ranges=None, reserved=None, gateway=None, description=None,
                    min_prefix_length=None, max_prefix_length=None, default_prefix_length=None, parent=None):
        """Validate user input (module options or a store's text) into settings."""
        name = _text(name, 'pool name')
        if not name or not name.strip():
            raise InvalidInputError('A pool needs a non-empty name')
        network = parse_network(_text(cidr, 'cidr'), what='cidr')
        version = network.version
        parsed_ranges = []
        for item in ranges or ():
            first, last = parse_block(_text(item, 'range'), version, what='range')
            if not network.contains_block(first, last):
                raise InvalidInputError('Range %r is outside the pool cidr %s' % (item, network.text()))
            parsed_ranges.append((first, last))
        ordered = sorted(parsed_ranges)
        for (first_a, last_a), (first_b, last_b) in zip(ordered, ordered[1:]):
            if first_b <= last_a:
                raise InvalidInputError('Ranges %s and %s overlap: give each address to one range only' % (
                    format_block(version, first_a, last_a), format_block(version, first_b, last_b)))
        parsed_reserved = []
        for item in reserved or ():
            first, last = parse_block(_text(item, 'reserved entry'), version, what='reserved entry')
            if not network.contains_block(first, last):
                raise InvalidInputError('Reserved entry %r is outside the pool cidr %s' % (item, network.text()))
            parsed_reserved.append((first, last))
        gateway_value = None
        if gateway is not None:
            gateway_version, gateway_value = parse_address(_text(gateway, 'gateway'), what='gateway')
            if gateway_version != version or gateway_value not in network:
                raise InvalidInputError('Gateway %s is outside the pool cidr %s' % (gateway, network.text()))
            low, high = network.usable_bounds()
            if not low <= gateway_value <= high:
                raise InvalidInputError('Gateway %s is the network or broadcast address of %s' % (gateway, network.text()))
        lengths = {}
        for key, value in (('min_prefix_length', min_prefix_length), ('max_prefix_length', max_prefix_length),
                           ('default_prefix_length', default_prefix_length)):
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or not network.prefix_length <= value <= network.bits:
                raise InvalidInputError('%s %r must be an integer between %d and %d for %s' % (
                    key, value, network.prefix_length, network.bits, network.text()))
            lengths[key] = value
        low_bound = lengths.get('min_prefix_length', network.prefix_length)
        high_bound = lengths.get('max_prefix_length', network.bits)
        if low_bound > high_bound:
            raise InvalidInputError('min_prefix_length %d is above max_prefix_length %d' % (low_bound, high_bound))
        default = lengths.get('default_prefix_length')
        if default is not None and not low_bound <= default <= high_bound:
            raise InvalidInputError('default_prefix_length %d is not between min_prefix_length %d and max_prefix_length %d'
                                    % (default, low_bound, high_bound))
        return cls(name, network, ordered, parsed_reserved, gateway_value, _text(description, 'description'),
                   parent=_text(parent, 'parent'), **lengths)

    @classmethod
    def from_doc(cls, name, doc):
        if not isinstance(doc, dict):
            raise InvalidInputError('pool %r must be a mapping' % (name,))
        unknown = set(doc) - _POOL_KEYS - {'addresses', 'prefixes'}
        if unknown:
            raise InvalidInputError('pool %r has unknown keys: %s' % (name, ', '.join(sorted(map(str, unknown)))))
        if 'cidr' not in doc:
            raise InvalidInputError('pool %r has no cidr' % (name,))
        return cls.from_params(name, **{key: doc.get(key) for key in _POOL_KEYS})

    # -- the pool's address space ---------------------------------------------

    @property
    def version(self):
        return self.network.version

    def address_space(self):
        """Intervals a host address may come from (before reserved and gateway)."""
        low, high = self.network.usable_bounds()
        if not self.ranges:
            return [(low, high)]
        clipped = [(max(first, low), min(last, high)) for first, last in sorted(self.ranges)]
        return [(first, last) for first, last in clipped if first <= last]

    def prefix_space(self):
        """Intervals a child prefix may come from (the whole network, or its ranges)."""
        if not self.ranges:
            return [(self.network.first, self.network.last)]
        return sorted(self.ranges)

    def blocked(self):
        """Values that are never allocated: reserved entries and the gateway."""
        blocked = list(self.reserved)
        if self.gateway is not None:
            blocked.append((self.gateway, self.gateway))
        return blocked

    def size(self):
        space = IntervalSet(self.address_space())
        for first, last in self.blocked():
            space.remove(first, last)
        return count_in(space)

    def allowed_for_address(self, value):
        """None when ``value`` may be given to a host, else why not."""
        if value not in self.network:
            return 'outside the pool cidr %s' % self.network.text()
        if value == self.gateway:
            return 'the gateway of pool %r' % self.name
        for first, last in self.reserved:
            if first <= value <= last:
                return 'reserved in pool %r (%s)' % (self.name, format_block(self.version, first, last))
        low, high = self.network.usable_bounds()
        if not low <= value <= high:
            return 'the network or broadcast address of %s' % self.network.text()
        if not any(first <= value <= last for first, last in self.address_space()):
            return 'outside the ranges of pool %r (%s)' % (self.name, ', '.join(
                format_block(self.version, first, last) for first, last in sorted(self.ranges)))
        return None

    # -- serialization ---------------------------------------------------------

    def to_doc(self):
        doc = {'cidr': self.network.text()}
        if self.ranges:
            doc['ranges'] = [format_block(self.version, first, last) for first, last in self.ranges]
        if self.reserved:
            doc['reserved'] = [format_block(self.version, first, last) for first, last in self.reserved]
        if self.gateway is not None:
            doc['gateway'] = format_address(self.version, self.gateway)
        for key in ('description', 'min_prefix_length', 'max_prefix_length', 'default_prefix_length', 'parent'):
            value = getattr(self, key)
            if value is not None:
                doc[key] = value
        return doc


_POOL_KEYS = frozenset(('cidr', 'ranges', 'reserved', 'gateway', 'description', 'min_prefix_length',
                        'max_prefix_length', 'default_prefix_length', 'parent'))


class Record:
    """One allocation: an address (``first == last``) or a child prefix held by ``name``."""

    __slots__ = ('kind', 'name', 'first', 'last', 'description', 'dns_name')

    def __init__(self, kind, name, first, last, description=None, dns_name=None):
        self.kind = kind
        self.name = name
        self.first = first
        self.last = last
        self.description = description
        self.dns_name = dns_name

    def prefix_length(self, version):
        return BITS[version] - (self.last - self.first + 1).bit_length() + 1

    def same_as(self, other):
        return other is not None and all(getattr(self, key) == getattr(other, key) for key in self.__slots__)

    def replace(self, **changes):
        values = {key: getattr(self, key) for key in self.__slots__}
        values.update(changes)
        return Record(**values)

    def to_doc(self, version):
        if self.kind == ADDRESS:
            doc = {'name': self.name, 'address': format_address(version, self.first)}
        else:
            doc = {'name': self.name, 'prefix': '%s/%d' % (format_address(version, self.first), self.prefix_length(version))}
        if self.description is not None:
            doc['description'] = self.description
        if self.dns_name is not None:
            doc['dns_name'] = self.dns_name
        return doc

    @classmethod
    def from_doc(cls, kind, doc, network):
        """Read a stored record; raises InvalidInputError naming what is wrong."""
        if not isinstance(doc, dict) or not isinstance(doc.get('name'), str):
            raise InvalidInputError('every %s entry needs a "name" string, got %r' % (kind, doc))
        if kind == ADDRESS:
            version, first = parse_address(doc.get('address'), what='address of %r' % doc['name'])
            last = first
            if version != network.version or first not in network:
                raise InvalidInputError('address %s of %r is outside %s' % (doc.get('address'), doc['name'], network.text()))
        else:
            child = parse_network(doc.get('prefix'), what='prefix of %r' % doc['name'])
            first, last = child.first, child.last
            if child.version != network.version or not network.contains_block(first, last):
                raise InvalidInputError('prefix %s of %r is outside %s' % (doc.get('prefix'), doc['name'], network.text()))
        return cls(kind, doc['name'], first, last, doc.get('description'), doc.get('dns_name'))


def pool_view(settings, used):
    """What modules return for a pool: its settings plus ``size``, ``used``, ``free``."""
    view = {'name': settings.name}
    view.update(settings.to_doc())
    for key in ('ranges', 'reserved'):
        view.setdefault(key, [])
    for key in ('gateway', 'description'):
        view.setdefault(key, None)
    size = settings.size()
    view.update(size=size, used=used, free=max(size - used, 0))
    return view


def record_view(settings, record):
    """What modules return, diff and list for one allocation."""
    if record is None:
        return {}
    version = settings.version
    gateway = format_address(version, settings.gateway) if settings.gateway is not None else None
    if record.kind == ADDRESS:
        address = format_address(version, record.first)
        return {
            'pool': settings.name,
            'name': record.name,
            'address': address,
            'cidr': '%s/%d' % (address, settings.network.prefix_length),
            'prefix_length': settings.network.prefix_length,
            'gateway': gateway,
            'description': record.description,
            'dns_name': record.dns_name,
        }
    prefix_length = record.prefix_length(version)
    network = format_address(version, record.first)
    return {
        'pool': settings.name,
        'name': record.name,
        'prefix': '%s/%d' % (network, prefix_length),
        'network': network,
        'prefix_length': prefix_length,
        'gateway': _first_usable(version, record.first, prefix_length),
        'description': record.description,
    }


def _first_usable(version, first, prefix_length):
    if prefix_length >= BITS[version] - 1:
        return format_address(version, first)
    return format_address(version, first + 1)
