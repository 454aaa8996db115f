# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""Which address a name gets: one (``plan_address``), many (``plan_addresses``), released, or peeked at."""

from __future__ import annotations

from .addresses import eui64_address, format_address, parse_address
from .bulk import first_unserved, for_item
from .errors import ConflictError, InvalidInputError, IpamError, OutOfPoolError, PoolExhaustedError
from .model import ADDRESS, Record, valid_name
from .overlay import PredictedSpace
from .plans import Change, apply, exhausted_error, held_for_release, placed, plan_many, refuse_unowned, with_fields


def requested_address(settings, address=None, mac=None):
    """The int a request names through ``address`` or ``mac``, or None for "the next free"."""
    if address is not None and mac is not None:
        raise InvalidInputError('Give either "address" or "mac", not both')
    if mac is not None:
        return eui64_address(settings.network, mac)
    if address is None:
        return None
    text = str(address)
    if '/' in text:
        # Accept the cidr form we return (10.0.0.5/24) as long as it matches the pool.
        text, _sep, length = text.partition('/')
        if length != str(settings.network.prefix_length):
            raise InvalidInputError('Address %s does not match the prefix length /%d of pool %r' % (
                address, settings.network.prefix_length, settings.name))
    version, value = parse_address(text)
    if version != settings.version:
        raise OutOfPoolError('Address %s is not an IPv%d address like pool %r (%s)' % (
            address, settings.version, settings.name, settings.network.text()))
    return value


def next_free_address(space):
    for low, high in space.settings.address_space():
        value = space.first_gap(low, high)
        if value is not None:
            return value
    return None


def free_addresses(space, count):
    """The lowest ``count`` free addresses (fewer if the pool has fewer)."""
    found = []
    for low, high in space.settings.address_space():
        for first, last in space.gaps(low, high):
            take = min(last - first + 1, count - len(found))
            found.extend(range(first, first + take))
            if len(found) >= count:
                return found
    return found


def plan_address(space, name, address=None, mac=None, description=None, dns_name=None):
    """Plan ``state: present``: the name's current address, a specific one, or the lowest free."""
    settings = space.settings
    name = valid_name(name)
    wanted = requested_address(settings, address, mac)
    current = space.named(ADDRESS, name)
    if current is not None and (wanted is None or wanted == current.first):
        return Change(current, with_fields(current, description, dns_name))
    if wanted is None:
        wanted = next_free_address(space)
        if wanted is None:
            raise exhausted_error(space)
    else:
        text = format_address(settings.version, wanted)
        reason = settings.allowed_for_address(wanted)
        if reason is not None:
            raise OutOfPoolError('Cannot allocate %s to %r: the address is %s' % (text, name, reason))
        if not space.is_free(wanted, wanted):
            raise ConflictError('Cannot allocate %s to %r in pool %r: it is already held by %s. '
                                'Release it first or ask for another address.' % (
                                    text, name, settings.name, space.holder_text(wanted, wanted)))
    return Change(current, placed(current, ADDRESS, name, wanted, wanted, description, dns_name))


def plan_address_release(space, name=None, address=None):
    """Plan ``state: absent`` by name or by address; releasing nothing is not an error."""
    settings = space.settings
    current = held_for_release(space, ADDRESS, name, address, 'Releasing needs "name" or "address"')
    if address is not None:
        wanted = requested_address(settings, address)
        if name is not None:
            if current is not None and current.first != wanted:
                raise ConflictError('%r holds %s in pool %r, not %s; nothing was released' % (
                    name, format_address(settings.version, current.first), settings.name, address))
        else:
            current = space.find_overlapping(wanted, wanted)
            if current is not None and current.kind != ADDRESS:
                raise ConflictError('%s lies in prefix %r of pool %r; release that with ipam.allocator.ip_prefix' % (
                    address, current.name, settings.name))
            refuse_unowned(space, current, address)
    return Change(current, None)


def plan_addresses(space, requests):
    """Plan ``state: present`` for many ``AddressRequest``: all of them or, raising, none.

    Names that already hold their address, and requests that name one, are planned first;
    then the new names take the lowest free addresses in list order, found in one walk.
    """
    settings = space.settings
    changes = {}
    placed = []
    new = []
    for request in requests:
        if request.placed:
            placed.append(request)
            continue
        current = space.named(ADDRESS, request.name)
        if current is None:
            new.append(request)
            continue
        # A name that keeps its address takes nothing from the others: no overlay needed (a rerun of 10k names).
        try:
            changes[request.position] = Change(current, with_fields(current, request.description, request.dns_name))
        except IpamError as exc:
            raise for_item(request, exc) from None
    changes.update(zip((request.position for request in placed), plan_many(
        space, placed, lambda view, request: plan_address(view, request.name, **request.options()))))
    if new:
        view = PredictedSpace(space, settings)
        for change in changes.values():
            apply(view, change)
        free = free_addresses(view, len(new))
        if len(free) < len(new):
            raise PoolExhaustedError('Failed to allocate %d new addresses in pool %r: exhausted (%d of %d used, %d free)%s. '
                                     'Nothing was allocated; release addresses, widen the pool or shorten the list.' % (
                                         len(new), settings.name, min(view.used(), settings.size()), settings.size(),
                                         len(free), first_unserved(new, len(free))))
        for request, value in zip(new, free):
            try:
                record = Record(ADDRESS, request.name, value, value)
                changes[request.position] = Change(None, with_fields(record, request.description, request.dns_name))
            except IpamError as exc:
                raise for_item(request, exc) from None
    return [changes[request.position] for request in requests]


def plan_address_releases(space, requests):
    """Plan ``state: absent`` for many names (each may add the ``address`` it is expected to hold)."""
    return plan_many(space, requests, lambda view, request: plan_address_release(view, request.name, request.address))


def peek_addresses(space, count):
    """The next ``count`` free addresses (ints) of ``space``, reserving nothing; exhausted when there are fewer."""
    found = free_addresses(space, count)
    if len(found) < count:
        if not found:
            raise exhausted_error(space)
        raise PoolExhaustedError('Pool %r has only %d free address(es), %d were asked for: exhausted'
                                 % (space.settings.name, len(found), count))
    return [Record(ADDRESS, None, value, value) for value in found]
