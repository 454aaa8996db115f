# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""Address arithmetic on plain integers.

The engine never materialises a list of addresses: an address is an ``int`` and a
set of addresses is a list of closed intervals, so a 10.0.0.0/8 or a /64 costs
the same as a /24.  This module converts between text and integers and knows the
IPv4/IPv6 rules (network, broadcast, /31, /127, EUI-64).
"""

from __future__ import annotations

import ipaddress
import re
import socket

from .errors import InvalidInputError

BITS = {4: 32, 6: 128}
_FAMILY = {4: socket.AF_INET, 6: socket.AF_INET6}
_MAC_HEX = re.compile(r'^[0-9a-f]{12}$')


class Network:
    """An IP network as integers: ``first``/``last`` are the lowest/highest address."""

    __slots__ = ('version', 'first', 'prefix_length')

    def __init__(self, version, first, prefix_length):
        self.version = version
        self.first = first
        self.prefix_length = prefix_length

    @property
    def bits(self):
        return BITS[self.version]

    @property
    def last(self):
        return self.first + (1 << (self.bits - self.prefix_length)) - 1

    @property
    def size(self):
        return 1 << (self.bits - self.prefix_length)

    def __contains__(self, value):
        return self.first <= value <= self.last

    def contains_block(self, first, last):
        return self.first <= first and last <= self.last

    def usable_bounds(self):
        """The lowest and highest address a host may get.

        IPv4 loses the network and broadcast address, IPv6 the subnet-router
        anycast (network) address, except in point-to-point and host networks
        (/31, /32, /127, /128) where every address is usable.
        """
        if self.prefix_length >= self.bits - 1:
            return self.first, self.last
        if self.version == 4:
            return self.first + 1, self.last - 1
        return self.first + 1, self.last

    def text(self):
        return '%s/%d' % (format_address(self.version, self.first), self.prefix_length)

    def __eq__(self, other):
        return (isinstance(other, Network) and (self.version, self.first, self.prefix_length)
                == (other.version, other.first, other.prefix_length))

    def __hash__(self):
        return hash((self.version, self.first, self.prefix_length))

    def __repr__(self):
        return 'Network(%s)' % self.text()


def parse_address(text, what='address'):
    """Return ``(version, int)`` for an IPv4 or IPv6 address given as text."""
    if not isinstance(text, str) or not text:
        raise InvalidInputError('Invalid %s %r: expected an IPv4 or IPv6 address such as 10.0.0.5 or 2001:db8::5' % (what, text))
    family_version = 6 if ':' in text else 4
    try:
        packed = socket.inet_pton(_FAMILY[family_version], text)
    except (OSError, ValueError):
        raise InvalidInputError(
            'Invalid %s %r: expected an IPv4 or IPv6 address such as 10.0.0.5 or 2001:db8::5' % (what, text)) from None
    return family_version, int.from_bytes(packed, 'big')


def format_address(version, value):
    return socket.inet_ntop(_FAMILY[version], value.to_bytes(BITS[version] // 8, 'big'))


def parse_network(text, what='CIDR', strict=True):
    """Parse ``10.0.0.0/24``; with ``strict`` host bits must be zero."""
    if not isinstance(text, str) or '/' not in text:
        raise InvalidInputError(
            'Invalid %s %r: expected a network in CIDR notation such as 10.0.0.0/24 or 2001:db8::/64' % (what, text))
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError as exc:
        raise InvalidInputError('Invalid %s %r: %s' % (what, text, exc)) from None
    version, value = network.version, int(network.network_address)
    if strict:
        given = int(ipaddress.ip_interface(text).ip)
        if given != value:
            raise InvalidInputError('Invalid %s %r: it has host bits set; did you mean %s?' % (what, text, network))
    return Network(version, value, network.prefixlen)


def parse_block(text, version, what='range'):
    """Parse an address, ``first-last`` range or CIDR into a closed interval of ints."""
    if not isinstance(text, str):
        raise InvalidInputError('Invalid %s %r: expected an address, a range "first-last" or a CIDR' % (what, text))
    text = text.strip()
    if '/' in text:
        network = parse_network(text, what=what)
        first, last, found_version = network.first, network.last, network.version
        found_versions = {found_version}
    elif '-' in text:
        first_text, _sep, last_text = text.partition('-')
        first_version, first = parse_address(first_text.strip(), what='%s start' % what)
        last_version, last = parse_address(last_text.strip(), what='%s end' % what)
        found_versions = {first_version, last_version}
        if first > last:
            raise InvalidInputError('Invalid %s %r: its first address is above its last' % (what, text))
    else:
        found_version, first = parse_address(text, what=what)
        last = first
        found_versions = {found_version}
    if found_versions != {version}:
        raise InvalidInputError('Invalid %s %r: not an IPv%d value like the pool' % (what, text, version))
    return first, last


def format_block(version, first, last):
    if first == last:
        return format_address(version, first)
    return '%s-%s' % (format_address(version, first), format_address(version, last))


def normalize_mac(mac):
    """Return the 48-bit MAC as an int; accepts ``:``, ``-``, ``.`` or no separators."""
    if not isinstance(mac, str):
        raise InvalidInputError('Invalid MAC address %r: expected 6 bytes such as 52:54:00:12:34:56' % (mac,))
    digits = re.sub(r'[:\-.]', '', mac.strip().lower())
    if not _MAC_HEX.match(digits):
        raise InvalidInputError('Invalid MAC address %r: expected 6 bytes such as 52:54:00:12:34:56' % (mac,))
    return int(digits, 16)


def eui64_address(network, mac):
    """The modified EUI-64 address of ``mac`` in the IPv6 /64 ``network`` (RFC 4291 appendix A)."""
    value = normalize_mac(mac)
    if network.version != 6 or network.prefix_length != 64:
        raise InvalidInputError(
            'An EUI-64 address needs an IPv6 /64 pool; %s is not one. Drop "mac" or use a /64 pool.' % network.text())
    oui, nic = value >> 24, value & 0xFFFFFF
    # Invert the universal/local bit and put ff:fe in the middle.
    interface_id = ((oui ^ 0x020000) << 40) | (0xFFFE << 24) | nic
    return network.first | interface_id


def count_in(intervals):
    return sum(last - first + 1 for first, last in intervals)
