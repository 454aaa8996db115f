# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""Many names in one task: the requests, read and checked as a whole before anything is planned.

A task's ``names`` list becomes a list of ``AddressRequest`` (or ``PrefixRequest``),
one per item, in the order given.  Every backend gets the whole list at once
(``Backend.bulk_allocate`` ...), so the file backend can plan it under one lock and
a server backend can ask for it in one list request and one bulk POST.

Which request is planned when is one rule for every backend (``planning_order``):
requests that name their address (``address``, ``mac``) or prefix (``prefix``) first,
then the others in the order given.  A new name therefore never takes an address
that a later item of the same list asks for by value, and the new names take the
free addresses lowest first in list order: check mode and the real run agree.
"""

from __future__ import annotations

from .errors import InvalidInputError
from .model import valid_name


class BulkRequest:
    """One item of a ``names`` list: ``position`` is its index in that list, for messages."""

    __slots__ = ('name', 'position')
    #: options an item may set besides ``name``
    OPTIONS = ()
    #: options whose value places the request (planned first)
    PLACING = ()

    def __init__(self, name, position=0, **options):
        self.name = name
        self.position = position
        for key in self.OPTIONS:
            setattr(self, key, options.get(key))

    @property
    def label(self):
        """How messages name the item: ``names[3] 'web04'``."""
        return 'names[%d] %r' % (self.position, self.name)

    @property
    def placed(self):
        """True when the item names the address or prefix it wants."""
        return any(getattr(self, key) is not None for key in self.PLACING)

    def options(self):
        return {key: getattr(self, key) for key in self.OPTIONS}

    def __repr__(self):
        given = ', '.join('%s=%r' % (key, value) for key, value in self.options().items() if value is not None)
        return '%s(%r%s)' % (type(self).__name__, self.name, ', ' + given if given else '')


class AddressRequest(BulkRequest):
    __slots__ = ('address', 'mac', 'description', 'dns_name')
    OPTIONS = ('address', 'mac', 'description', 'dns_name')
    PLACING = ('address', 'mac')


class PrefixRequest(BulkRequest):
    __slots__ = ('prefix_length', 'prefix', 'description')
    OPTIONS = ('prefix_length', 'prefix', 'description')
    PLACING = ('prefix',)


#: What a ``state: absent`` item may hold besides its name.
RELEASE_OPTIONS = {AddressRequest: ('address',), PrefixRequest: ('prefix',)}


def requests_from_items(items, request_class, defaults=None, release=False):
    """The requests of a ``names`` list: each item a name, or a mapping with ``name`` and per-item options.

    ``defaults`` are the task's own options (``description``, ``prefix_length`` ...), which an
    item's own value overrides.  Refused, naming the item: an empty list, an item that is not a
    name or a mapping, an unknown key, an invalid name, a name listed twice.
    """
    if not isinstance(items, (list, tuple)):
        raise InvalidInputError('"names" must be a list of names (or of mappings with a "name"), got %s' % type(items).__name__)
    if not items:
        raise InvalidInputError('"names" is an empty list: give at least one name (an empty group? '
                                'then skip the task with "when: names | length > 0")')
    allowed = RELEASE_OPTIONS[request_class] if release else request_class.OPTIONS
    defaults = {key: value for key, value in (defaults or {}).items() if value is not None and key in allowed}
    seen = {}
    requests = []
    for position, item in enumerate(items):
        name, options = _item_parts(item, position, allowed, request_class)
        try:
            name = valid_name(name)
        except InvalidInputError as exc:
            raise InvalidInputError('names[%d]: %s' % (position, exc)) from None
        if name in seen:
            raise InvalidInputError('names[%d] %r is listed twice (also names[%d]): a name holds one %s per pool; '
                                    'list it once' % (position, name, seen[name], _what(request_class)))
        seen[name] = position
        requests.append(request_class(name, position, **dict(defaults, **options)))
    return requests


def _what(request_class):
    return 'prefix' if request_class is PrefixRequest else 'address'


def _item_parts(item, position, allowed, request_class):
    """``(name, options)`` of one item; a name alone is a string."""
    if isinstance(item, str):
        return item, {}
    if not isinstance(item, dict):
        raise InvalidInputError('names[%d] must be a name or a mapping with "name", got %r' % (position, item))
    unknown = sorted(set(item) - set(allowed) - {'name'}, key=str)
    if unknown:
        raise InvalidInputError('names[%d] %r: unknown key(s) %s; an item may set %s' % (
            position, item.get('name'), ', '.join(map(repr, unknown)), ', '.join(('name',) + tuple(allowed))))
    if 'name' not in item:
        raise InvalidInputError('names[%d] has no "name": every item needs one (the idempotency key), got %r' % (position, item))
    options = {key: value for key, value in item.items() if key != 'name' and value is not None}
    if request_class is PrefixRequest and 'prefix_length' in options:
        options['prefix_length'] = _integer(options['prefix_length'], position, item['name'])
    for key, value in options.items():
        if key != 'prefix_length' and not isinstance(value, str):
            raise InvalidInputError('names[%d] %r: %s must be a string, got %r' % (position, item['name'], key, value))
    return item['name'], options


def _integer(value, position, name):
    """An item's prefix_length: an integer, or its decimal text (a templated value)."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError('names[%d] %r: prefix_length %r must be an integer' % (position, name, value))
    return value


def planning_order(requests):
    """Requests that place themselves first, then the rest; each group in the order given."""
    return [request for request in requests if request.placed] + [request for request in requests if not request.placed]


def for_item(request, exc):
    """``exc`` (an IpamError) again, its message naming the item it is about."""
    return type(exc)('%s: %s' % (request.label, exc))


def first_unserved(requests, served):
    """The message tail naming the first of ``requests`` that ``served`` (a count) does not cover."""
    left = requests[served:]
    if not left:
        return ''
    tail = ' and the %d after it' % (len(left) - 1) if len(left) > 1 else ''
    return '; %s%s would get none' % (left[0].label, tail)
