# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""The rules over a store's pools: what ``ip_pool`` may change, how pools nest, when one may go,
and which allocations across the pools match a query (``ip_address_info``, the inventory)."""

from __future__ import annotations

from .addresses import format_address, format_block
from .errors import InvalidInputError, PoolInUseError
from .model import ADDRESS, PREFIX, PoolSettings, pool_view, valid_name, valid_text
from .plans import Change, record_text


POOL_OPTIONS = ('cidr', 'ranges', 'reserved', 'gateway', 'description', 'min_prefix_length', 'max_prefix_length',
                'default_prefix_length', 'parent')
_PREFIX_LENGTH_OPTIONS = ('min_prefix_length', 'max_prefix_length', 'default_prefix_length')


def pool_request(params, current=None):
    """The settings an ``ip_pool`` task asks for, as ``PoolSettings.from_params`` arguments.

    Ansible's convention: an option that is not given (None) keeps the pool's current value;
    an empty string or an empty list clears it.
    """
    wanted = {'name': valid_name(params.get('name'), 'pool name')}
    stored = current.to_doc() if current is not None else {}
    for key in POOL_OPTIONS:
        value = params.get(key)
        if value is None:
            value = stored.get(key)
        elif value == '' or value == []:
            value = None
        elif key in _PREFIX_LENGTH_OPTIONS:
            value = _prefix_length_option(key, value)
        elif key == 'parent':
            value = valid_name(value, 'parent')
        elif key == 'description':
            value = valid_text(value, 'description')
        wanted[key] = value
    return wanted


def _prefix_length_option(key, value):
    """An integer, or its decimal text (a templated value); anything else is refused."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError('%s %r must be an integer (or an empty string to clear it)' % (key, value))
    return value


def plan_pool(state, params):
    """Plan ``ip_pool state: present``; returns (Change of pool views, new settings or None).

    Options the task does not give are left as they are (``pool_request``).
    """
    name = valid_name(params.get('name'), 'pool name')
    current = state.space(name) if state.has_pool(name) else None
    settings = PoolSettings.from_params(**pool_request(params, current and current.settings))
    before = None
    if current is not None:
        current.validate()
        before = pool_view(current.settings, current.used())
        if current.settings.to_doc() == settings.to_doc():
            return Change(before, before), None
        _check_records_fit(current, settings)
    if settings.parent is not None:
        if not state.has_pool(settings.parent):
            raise state.missing_pool(settings.parent)
        if not parent_prefix_allocated(state, settings):
            raise InvalidInputError('Pool %r names parent %r, but %s is not a prefix allocated in %r; allocate it with '
                                    'ipam.allocator.ip_prefix first' % (
                                        settings.name, settings.parent, settings.network.text(), settings.parent))
    if not state.pools_nest:
        _check_no_overlap(state, settings)
    used = current.used() if current is not None else 0
    return Change(before, pool_view(settings, used)), settings


def _ancestors(state, settings):
    """Names of the pools ``settings`` was carved from: its parent, the parent's parent, ..."""
    found = []
    parent = settings.parent
    while parent is not None and parent not in found and state.has_pool(parent):
        found.append(parent)
        parent = state.space(parent).settings.parent
    return found


def _check_no_overlap(state, settings):
    """A pool never overlaps another pool of the store, but for the prefixes carved from one another."""
    network = settings.network
    ancestors = _ancestors(state, settings)
    for other_name in state.pool_names():
        if other_name == settings.name or other_name in ancestors:
            continue
        other = state.space(other_name).settings
        if other.network.version != network.version or other.network.last < network.first or network.last < other.network.first:
            continue
        if settings.name in _ancestors(state, other):
            continue
        raise InvalidInputError('Pool %r (%s) overlaps pool %r (%s) of the same store: one address would belong to two '
                                'pools. A pool lies inside another only as a prefix allocated from it '
                                '(ipam.allocator.ip_prefix, then ipam.allocator.ip_pool with parent).' % (
                                    settings.name, network.text(), other_name, other.network.text()))


def _check_records_fit(space, settings):
    """Refuse new settings that would strand or collide with live allocations."""
    address_space = settings.address_space()
    blocked = settings.blocked()
    for record in space.records():
        text = record_text(settings, record) if record.first in settings.network else format_address(space.settings.version, record.first)
        where = '%s %s held by %r' % (record.kind, text, record.name)
        if settings.network.version != space.settings.version or not settings.network.contains_block(record.first, record.last):
            raise PoolInUseError('Cannot change pool %r to %s: %s would fall outside it. Release it first.' % (
                settings.name, settings.network.text(), where))
        if record.kind == ADDRESS and not any(low <= record.first <= high for low, high in address_space):
            raise PoolInUseError('Cannot change the ranges of pool %r: %s would fall outside them. Release it first.' % (
                settings.name, where))
        for first, last in blocked:
            if first <= record.last and record.first <= last:
                raise PoolInUseError('Cannot reserve %s in pool %r: %s. Release it first.' % (
                    format_block(settings.version, first, last), settings.name, where))


def parent_prefix_allocated(state, settings):
    """True when the pool's cidr is a prefix allocated in its parent pool."""
    parent = state.space(settings.parent)
    return any((record.first, record.last) == (settings.network.first, settings.network.last)
               for record in parent.records(PREFIX))


def plan_pool_removal(state, name, force=False):
    if not state.has_pool(name):
        return Change(None, None)
    space = state.space(name)
    # Where pools nest (a server's prefixes), the server's hierarchy has no "parent" setting to keep.
    children = [] if state.pools_nest else [
        other for other in state.pool_names() if other != name and state.space(other).settings.parent == name]
    if children:
        raise PoolInUseError('Pool %r is the parent of %s; remove those pools first' % (name, ', '.join(map(repr, children))))
    used = space.count(ADDRESS) + space.count(PREFIX)
    if used and not force:
        raise PoolInUseError('Pool %r still holds %d allocation(s); release them or set force: true' % (name, used))
    return Change(pool_view(space.settings, space.used()), None)


def child_pools(state, pool, record):
    """``(name, busy)`` for each pool carved from prefix ``record`` of ``pool``."""
    found = []
    for other in state.pool_names():
        if other == pool:
            continue
        space = state.space(other)
        settings = space.settings
        if settings.parent == pool and (settings.network.first, settings.network.last) == (record.first, record.last):
            found.append((other, bool(space.count(ADDRESS) or space.count(PREFIX))))
    return found


def matching_records(state, kind, pool=None, name=None, address=None):
    """``(settings, Record)`` of the allocations of ``kind`` that match every filter given (``address``: an int).

    Pools by name, records by address: what ``ip_address_info`` and the inventory list, on every backend.
    """
    pools = state.pool_names() if pool is None else [pool] if state.has_pool(pool) else []
    found = []
    for pool_name in pools:
        space = state.space(pool_name)
        if name is not None:
            records = [space.named(kind, str(name))]
        elif address is not None:
            records = [space.find_overlapping(address, address)]
        else:
            records = sorted(space.records(kind), key=lambda record: record.first)
        for record in records:
            if record is None or record.kind != kind or record.name is None:
                continue
            if address is not None and not record.first <= address <= record.last:
                continue
            found.append((space.settings, record))
    return found
