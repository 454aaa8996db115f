# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""The allocation rules, written once against ``PoolSpace``/``StoreState``.

Every function *plans*: it returns a ``Change`` (record before, record after)
without touching the store.  ``apply()`` then makes it so.  Check mode simply
does not apply, which is why its prediction is the address a real run takes.
"""

from __future__ import annotations

from .addresses import BITS, eui64_address, format_address, format_block, parse_address, parse_network
from .bulk import first_unserved, for_item, planning_order
from .errors import (
    ConflictError,
    InvalidInputError,
    IpamError,
    OutOfPoolError,
    PoolExhaustedError,
    PoolInUseError,
)
from .model import ADDRESS, PREFIX, PoolSettings, Record, pool_view, valid_dns_name, valid_name, valid_text
from .overlay import PredictedSpace


class Change:
    """A planned change of one record (or one pool): ``before``/``after`` may be None."""

    __slots__ = ('before', 'after')

    def __init__(self, before, after):
        self.before = before
        self.after = after

    @property
    def changed(self):
        if self.before is None or self.after is None:
            return self.before is not self.after
        if isinstance(self.before, Record):
            return not self.before.same_as(self.after)
        return self.before != self.after


def apply(space, change):
    if not change.changed:
        return
    if change.before is not None:
        space.remove(change.before)
    if change.after is not None:
        space.add(change.after)


def _require_name(name):
    return valid_name(name)


def with_fields(current, description, dns_name):
    """The record with the given optional fields set: None keeps the stored value, an empty string clears it."""
    changes = {}
    description = valid_text(description, 'description')
    dns_name = valid_dns_name(dns_name)
    if description is not None:
        changes['description'] = description or None
    if dns_name is not None:
        changes['dns_name'] = dns_name or None
    return current.replace(**changes) if changes else current


def _without_record(space, record):
    """A read-only view of ``space`` in which ``record`` is released: where a name may move to."""
    view = PredictedSpace(space, space.settings)
    view.remove(record)
    return view


def exhausted_error(space, what='address'):
    settings = space.settings
    size = settings.size()
    return PoolExhaustedError('Failed to allocate an %s in pool %r: exhausted (%d of %d used). '
                              'Release addresses or widen the pool.' % (what, settings.name, min(space.used(), size), size))


# -- addresses ---------------------------------------------------------------

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
    name = _require_name(name)
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
    # A name that moves keeps its description and DNS name unless the task gives new ones.
    held = current if current is not None else Record(ADDRESS, name, wanted, wanted)
    return Change(current, with_fields(held.replace(first=wanted, last=wanted), description, dns_name))


def plan_address_release(space, name=None, address=None):
    """Plan ``state: absent`` by name or by address; releasing nothing is not an error."""
    settings = space.settings
    if name is None and address is None:
        raise InvalidInputError('Releasing needs "name" or "address"')
    current = space.named(ADDRESS, _require_name(name)) if name is not None else None
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
            _refuse_unowned(space, current, address)
    return Change(current, None)


def _refuse_unowned(space, record, what):
    """Only allocations are released: on a server, an object this collection did not make has no name."""
    if record is not None and record.name is None:
        raise ConflictError('%s in pool %r is held by %s; nothing was released' % (
            what, space.settings.name, space.holder_text(record.first, record.last)))


# -- many names at once (bulk.py has the requests and the order they are planned in) ----------

def plan_many(space, requests, plan_one):
    """Plan ``plan_one(view, request)`` for each request, each seeing the ones before: Changes in request order.

    The view is an in-memory overlay of ``space`` (the store is only read); the first
    request that cannot be served raises, its message naming the item, and nothing is planned.
    """
    view = PredictedSpace(space, space.settings)
    planned = {}
    for request in planning_order(requests):
        try:
            change = plan_one(view, request)
        except IpamError as exc:
            raise for_item(request, exc) from None
        apply(view, change)
        planned[request.position] = change
    return [planned[request.position] for request in requests]


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
                changes[request.position] = Change(None, with_fields(Record(ADDRESS, request.name, value, value),
                                                                  request.description, request.dns_name))
            except IpamError as exc:
                raise for_item(request, exc) from None
    return [changes[request.position] for request in requests]


def plan_address_releases(space, requests):
    """Plan ``state: absent`` for many names (each may add the ``address`` it is expected to hold)."""
    return plan_many(space, requests, lambda view, request: plan_address_release(view, request.name, request.address))


# -- prefixes ----------------------------------------------------------------

def _aligned_blocks(first, last, bits):
    """Split [first, last] into maximal aligned CIDR blocks: (first, prefix_length)."""
    while first <= last:
        size = first & -first if first else 1 << bits
        while size > last - first + 1:
            size >>= 1
        yield first, bits - size.bit_length() + 1
        first += size


def _best_fit(space, prefix_length):
    """Neutron-style best fit: the smallest free aligned block that fits, lowest first."""
    settings = space.settings
    bits = BITS[settings.version]
    best = None
    for low, high in settings.prefix_space():
        for first, last in space.gaps(low, high):
            for block_first, block_length in _aligned_blocks(first, last, bits):
                if block_length > prefix_length:
                    continue
                if best is None or block_length > best[1]:
                    best = (block_first, block_length)
                    if block_length == prefix_length:
                        break
            if best is not None and best[1] == prefix_length:
                return best[0]
    return None if best is None else best[0]


def requested_length(settings, prefix_length):
    if prefix_length is None:
        prefix_length = settings.default_prefix_length
        if prefix_length is None:
            raise InvalidInputError('Give "prefix_length" (or "prefix"): pool %r has no default_prefix_length' % settings.name)
    if isinstance(prefix_length, bool) or not isinstance(prefix_length, int):
        raise InvalidInputError('prefix_length %r must be an integer' % (prefix_length,))
    low = settings.min_prefix_length if settings.min_prefix_length is not None else settings.network.prefix_length
    high = settings.max_prefix_length if settings.max_prefix_length is not None else settings.network.bits
    if not low <= prefix_length <= high:
        raise OutOfPoolError('Prefix length /%d is outside what pool %r allows (/%d to /%d)' % (
            prefix_length, settings.name, low, high))
    return prefix_length


def plan_prefix(space, name, prefix_length=None, prefix=None, description=None):
    settings = space.settings
    name = _require_name(name)
    current = space.named(PREFIX, name)
    wanted = None
    if prefix is not None:
        child = parse_network(str(prefix), what='prefix')
        if child.version != settings.version:
            raise OutOfPoolError('Prefix %s is not IPv%d like pool %r' % (prefix, settings.version, settings.name))
        if prefix_length is not None and prefix_length != child.prefix_length:
            raise InvalidInputError('prefix %s and prefix_length %s disagree' % (prefix, prefix_length))
        prefix_length = requested_length(settings, child.prefix_length)
        wanted = child.first
    elif current is None or prefix_length is not None:
        prefix_length = requested_length(settings, prefix_length)
    if current is not None:
        same_length = prefix_length is None or current.prefix_length(settings.version) == prefix_length
        if same_length and (wanted is None or wanted == current.first):
            return Change(current, with_fields(current, description, None))
        if wanted is None:
            raise ConflictError('%r already holds %s in pool %r: a different prefix_length alone does not move it '
                                '(where to would be the choice of the allocator, not of the task). Name the new prefix with '
                                '"prefix", or release it first' % (name, record_text(settings, current), settings.name))
    size = 1 << (settings.network.bits - prefix_length)
    if wanted is None:
        wanted = _best_fit(space, prefix_length)
        if wanted is None:
            raise PoolExhaustedError('Failed to allocate a /%d in pool %r: exhausted (no free block of that size left). '
                                     'Release prefixes, ask for a longer prefix_length or widen the pool.'
                                     % (prefix_length, settings.name))
    else:
        last = wanted + size - 1
        if not any(low <= wanted and last <= high for low, high in settings.prefix_space()):
            raise OutOfPoolError('Prefix %s is outside pool %r (%s)' % (prefix, settings.name, settings.network.text()))
        # A prefix that moves may overlap the block it leaves.
        target = space if current is None else _without_record(space, current)
        if not target.is_free(wanted, last):
            raise ConflictError('Cannot allocate %s to %r in pool %r: it overlaps %s' % (
                prefix, name, settings.name, target.holder_text(wanted, last)))
    held = current if current is not None else Record(PREFIX, name, wanted, wanted + size - 1)
    return Change(current, with_fields(held.replace(first=wanted, last=wanted + size - 1), description, None))


def plan_prefix_release(space, name=None, prefix=None):
    settings = space.settings
    if name is None and prefix is None:
        raise InvalidInputError('Releasing a prefix needs "name" or "prefix"')
    current = space.named(PREFIX, _require_name(name)) if name is not None else None
    if prefix is not None:
        child = parse_network(str(prefix), what='prefix')
        if name is None:
            found = space.find_overlapping(child.first, child.last)
            if found is not None and found.kind == PREFIX and (found.first, found.last) == (child.first, child.last):
                _refuse_unowned(space, found, prefix)
                current = found
        elif current is not None and (current.first, current.last) != (child.first, child.last):
            raise ConflictError('%r holds %s in pool %r, not %s; nothing was released' % (
                name, record_text(settings, current), settings.name, prefix))
    return Change(current, None)


def peek_addresses(space, count):
    """The next ``count`` free addresses (ints) of ``space``, reserving nothing; exhausted when there are fewer."""
    found = free_addresses(space, count)
    if len(found) < count:
        if not found:
            raise exhausted_error(space)
        raise PoolExhaustedError('Pool %r has only %d free address(es), %d were asked for: exhausted'
                                 % (space.settings.name, len(found), count))
    return [Record(ADDRESS, None, value, value) for value in found]


def peek_prefixes(space, prefix_length, count):
    """The next ``count`` best-fit prefixes (Records without a name) of ``space``; exhausted when there are fewer."""
    found, length = free_prefixes(space, prefix_length, count)
    if len(found) < count:
        raise PoolExhaustedError('Pool %r has room for %d more /%d prefix(es), %d were asked for: exhausted'
                                 % (space.settings.name, len(found), length, count))
    size = 1 << (space.settings.network.bits - length)
    return [Record(PREFIX, None, first, first + size - 1) for first in found]


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


def plan_prefixes(space, requests, plan_one=None):
    """Plan ``state: present`` for many ``PrefixRequest``, best fit for each in turn: all of them or, raising, none."""
    plan_one = plan_one or (lambda view, request: plan_prefix(view, request.name, **request.options()))
    return plan_many(space, requests, plan_one)


def free_prefixes(space, prefix_length, count):
    """Predict the next ``count`` best-fit prefixes without storing anything."""
    prefix_length = requested_length(space.settings, prefix_length)
    found = []
    planned = []
    size = 1 << (space.settings.network.bits - prefix_length)
    overlay = _Overlay(space, planned)
    for _index in range(count):
        first = _best_fit(overlay, prefix_length)
        if first is None:
            break
        found.append(first)
        planned.append((first, first + size - 1))
    return found, prefix_length


class _Overlay:
    """A read-only view of a space with extra intervals taken, for multi-result peeks."""

    def __init__(self, space, taken):
        self.settings = space.settings
        self._space = space
        self._taken = taken

    def gaps(self, low, high):
        for first, last in self._space.gaps(low, high):
            cursor = first
            for taken_first, taken_last in sorted(self._taken):
                if taken_last < cursor or taken_first > last:
                    continue
                if taken_first > cursor:
                    yield cursor, taken_first - 1
                cursor = taken_last + 1
            if cursor <= last:
                yield cursor, last


def record_text(settings, record):
    if record.kind == ADDRESS:
        return format_address(settings.version, record.first)
    return '%s/%d' % (format_address(settings.version, record.first), record.prefix_length(settings.version))


# -- pools -------------------------------------------------------------------

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
