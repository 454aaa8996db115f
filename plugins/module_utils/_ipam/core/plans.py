# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""A planned change (``Change``) and what every rule module shares to make one.

Every rule *plans*: it returns a ``Change`` (record before, record after) without
touching the store.  ``apply()`` then makes it so.  Check mode simply does not
apply, which is why its prediction is the address a real run takes.
"""

from __future__ import annotations

from .addresses import format_address
from .bulk import for_item, planning_order
from .errors import ConflictError, InvalidInputError, IpamError, PoolExhaustedError
from .model import ADDRESS, Record, valid_dns_name, valid_name, valid_text
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


def placed(current, kind, name, first, last, description, dns_name):
    """The record ``name`` holds at [first, last] after the change (``current``: what it holds now, or None).

    A name that moves keeps its description and DNS name unless the task gives new ones.
    """
    held = current if current is not None else Record(kind, name, first, last)
    return with_fields(held.replace(first=first, last=last), description, dns_name)


def held_for_release(space, kind, name, where, missing):
    """The record of ``kind`` that ``name`` holds (None for none, or no name given) for a release by name
    or by ``where`` (its address or prefix); ``missing``: the message when neither is given."""
    if name is None and where is None:
        raise InvalidInputError(missing)
    return space.named(kind, valid_name(name)) if name is not None else None


def without_record(space, record):
    """A read-only view of ``space`` in which ``record`` is released: where a name may move to."""
    view = PredictedSpace(space, space.settings)
    view.remove(record)
    return view


def exhausted_error(space, what='address'):
    settings = space.settings
    size = settings.size()
    return PoolExhaustedError('Failed to allocate an %s in pool %r: exhausted (%d of %d used). '
                              'Release addresses or widen the pool.' % (what, settings.name, min(space.used(), size), size))


def refuse_unowned(space, record, what):
    """Only allocations are released: on a server, an object this collection did not make has no name."""
    if record is not None and record.name is None:
        raise ConflictError('%s in pool %r is held by %s; nothing was released' % (
            what, space.settings.name, space.holder_text(record.first, record.last)))


def record_text(settings, record):
    if record.kind == ADDRESS:
        return format_address(settings.version, record.first)
    return '%s/%d' % (format_address(settings.version, record.first), record.prefix_length(settings.version))


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
