# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""Which prefix a name gets: best fit (Neutron's rule: the smallest free aligned block that fits, lowest first)."""

from __future__ import annotations

from .addresses import BITS, parse_network
from .errors import ConflictError, InvalidInputError, OutOfPoolError, PoolExhaustedError
from .intervals import IntervalSet, without
from .model import PREFIX, Record, valid_name
from .plans import Change, held_for_release, placed, plan_many, record_text, refuse_unowned, with_fields, without_record


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
    name = valid_name(name)
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
        target = space if current is None else without_record(space, current)
        if not target.is_free(wanted, last):
            raise ConflictError('Cannot allocate %s to %r in pool %r: it overlaps %s' % (
                prefix, name, settings.name, target.holder_text(wanted, last)))
    return Change(current, placed(current, PREFIX, name, wanted, wanted + size - 1, description, None))


def plan_prefix_release(space, name=None, prefix=None):
    settings = space.settings
    current = held_for_release(space, PREFIX, name, prefix, 'Releasing a prefix needs "name" or "prefix"')
    if prefix is not None:
        child = parse_network(str(prefix), what='prefix')
        if name is None:
            found = space.find_overlapping(child.first, child.last)
            if found is not None and found.kind == PREFIX and (found.first, found.last) == (child.first, child.last):
                refuse_unowned(space, found, prefix)
                current = found
        elif current is not None and (current.first, current.last) != (child.first, child.last):
            raise ConflictError('%r holds %s in pool %r, not %s; nothing was released' % (
                name, record_text(settings, current), settings.name, prefix))
    return Change(current, None)


def peek_prefixes(space, prefix_length, count):
    """The next ``count`` best-fit prefixes (Records without a name) of ``space``; exhausted when there are fewer."""
    found, length = free_prefixes(space, prefix_length, count)
    if len(found) < count:
        raise PoolExhaustedError('Pool %r has room for %d more /%d prefix(es), %d were asked for: exhausted'
                                 % (space.settings.name, len(found), length, count))
    size = 1 << (space.settings.network.bits - length)
    return [Record(PREFIX, None, first, first + size - 1) for first in found]


def plan_prefixes(space, requests, plan_one=None):
    """Plan ``state: present`` for many ``PrefixRequest``, best fit for each in turn: all of them or, raising, none."""
    plan_one = plan_one or (lambda view, request: plan_prefix(view, request.name, **request.options()))
    return plan_many(space, requests, plan_one)


def free_prefixes(space, prefix_length, count):
    """Predict the next ``count`` best-fit prefixes without storing anything."""
    prefix_length = requested_length(space.settings, prefix_length)
    found = []
    size = 1 << (space.settings.network.bits - prefix_length)
    view = _WithTaken(space)
    for _index in range(count):
        first = _best_fit(view, prefix_length)
        if first is None:
            break
        found.append(first)
        view.taken.add(first, first + size - 1)
    return found, prefix_length


class _WithTaken:
    """A read-only view of a space with the ``taken`` intervals occupied too: each peeked prefix is out of the next search."""

    def __init__(self, space):
        self.settings = space.settings
        self._space = space
        self.taken = IntervalSet()

    def gaps(self, low, high):
        return without(self._space.gaps(low, high), self.taken.iter_from)
