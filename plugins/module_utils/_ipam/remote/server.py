# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""The objects of one NetBox or Nautobot server, read and written the way every remote step needs them.

Every object an answer brings is checked for its shape first (remote/objects.py: problem).
An allocation is an object that carries the tag ``ipam-allocator`` and its name
(remote/names.py).  The servers do not keep names unique, and an answer can be
lost, so three rules keep one object per name:

- A POST whose answer is lost may have landed: the name is looked up before
  anything else is decided, and the POST is sent again only when nothing was found.
- After an object is made for a name, the name is looked up again.  Two objects for
  one name (the lost POST landed after all; another task allocated the same name
  at the same time) converge on the one the server made first: the others are
  deleted, a warning says so, and every task reports the same address.
- A request that lost a race between the server's own workers (Nautobot answers
  400 "already exists") made nothing and is sent again, a bounded number of times.
"""

from __future__ import annotations

from ..core.addresses import format_address, parse_address, parse_network
from ..core.errors import BackendError
from .http import HttpError
from ..core.model import ADDRESS, PREFIX, Record
from .objects import IPS, PREFIXES, RANGES, TAG, TAGS, problem, single
from .names import clean

RANGE = 'range'
PATHS = {ADDRESS: IPS, PREFIX: PREFIXES, RANGE: RANGES}
WORDS = {ADDRESS: 'IP address', PREFIX: 'prefix'}
RACE_ATTEMPTS = 12   # a POST to available-* that lost a race between the server's own workers (nautobot#8297)
WRITE_ATTEMPTS = 3   # a POST whose answer was lost, sent again after finding that it did not land


def address_value(text):
    """The integer of an address as the server writes it (``10.0.0.5/24``)."""
    return parse_address(text.split('/', 1)[0])[1]


def _tag_missing(exc):
    """A list filtered by a tag the server does not have yet: nothing carries it."""
    return exc.status == 400 and isinstance(exc.data, dict) and set(exc.data) <= {'tag', 'tags'}


def _tags_refused(exc):
    """True when the server refused a write only for its ``tags`` (a named tag that does not exist); a bulk
    write is answered with one such refusal per object, or an empty one for an object it had no fault with."""
    if exc.status != 400:
        return False
    answers = exc.data if isinstance(exc.data, list) else [exc.data]
    refusals = [answer for answer in answers if answer != {}]
    return bool(refusals) and all(isinstance(answer, dict) and set(answer) == {'tags'} for answer in refusals)


def _lost_race(exc):
    text = str(exc).lower()
    return exc.status == 400 and ('already exists' in text or 'duplicate' in text)


def shown(obj):
    return '%s (id %s)' % (obj.get('address') or obj.get('prefix'), obj['id'])


class Server:
    """One server, through its HTTP client, dialect and name codec; ``checking`` is the current task's check mode."""

    def __init__(self, http, dialect, names):
        self.http = http
        self.dialect = dialect
        self.names = names
        self.product = dialect.product
        self.warnings = []
        self.checking = False
        self._tag_ids = {}
        dialect.server = self

    # -- reading ------------------------------------------------------------------------

    def objects(self, path, params):
        """Every object of a list endpoint, each checked to have the shape of its kind."""
        return list(self.http.paged(path, params, check=lambda obj: problem(path, obj)))

    def list(self, path, params):
        """The objects of a list endpoint in our VRF / namespace."""
        try:
            return [obj for obj in self.objects(path, params) if self.dialect.in_scope(obj)]
        except HttpError as exc:
            if _tag_missing(exc):
                return []
            key_field = self.names.key_field
            if exc.status == 400 and key_field and 'cf_%s' % key_field in (exc.data or {}):
                raise BackendError('%s has no custom field %r (option key_field): create it as a text field on IP '
                                   'addresses and prefixes, or drop key_field' % (self.product, key_field)) from None
            raise

    def count(self, path, params):
        try:
            response = self.http.get(path, dict(params, limit=1))
        except HttpError as exc:
            if _tag_missing(exc):
                return 0
            raise
        count = response.data.get('count') if isinstance(response.data, dict) else None
        if isinstance(count, bool) or not isinstance(count, int):
            raise response.invalid('expected a page of results with its "count"')
        return count

    def in_pool(self, kind, pool, **params):
        """Query parameters for the objects of ``kind`` in ``pool`` (addresses of its length; direct children)."""
        query = dict(self.dialect.scope(), **params)
        if kind == ADDRESS:
            query.update(self.dialect.ips_in(pool.cidr))
            query['mask_length'] = pool.network.prefix_length
        else:
            query.update(self.dialect.children_filter(pool))
        return query

    def belongs(self, kind, pool, obj):
        if kind == ADDRESS:
            version, value = parse_address(obj['address'].split('/', 1)[0])
            length = int(obj['address'].split('/', 1)[1])
            return version == pool.network.version and value in pool.network and length == pool.network.prefix_length
        return self.dialect.is_direct_child(pool, obj)

    def record(self, kind, obj, name=None, ours=None):
        """The Record of a server object: its name is None when the object is not ours (``ours`` None: look), or not
        ``name``."""
        if ours is None:
            ours = self.ours(obj)
        found, description = self.names.read(obj, name) if ours else (None, clean(obj.get('description')))
        if kind == ADDRESS:
            value = address_value(obj['address'])
            return Record(ADDRESS, found, value, value, description, clean(obj.get('dns_name')))
        network = parse_network(obj['prefix'], strict=False)
        return Record(PREFIX, found, network.first, network.last, description)

    def ours_in(self, kind, pool, name=None):
        """Our objects of ``kind`` in ``pool`` that carry a name (``name`` only, when given), in creation order."""
        params = self.in_pool(kind, pool, **self.dialect.tag_filter(TAG))
        if name is not None:
            params.update(self.names.filter(kind, name))
        found = [obj for obj in self.list(PATHS[kind], params)
                 if self.belongs(kind, pool, obj) and self.names.read(obj, name)[0] is not None]
        return sorted(found, key=self.dialect.creation_order)

    def find(self, kind, pool, name):
        """The object ``name`` holds in ``pool``, or None: one query, an exact check, and one object per name."""
        return self.one_per_name(kind, pool, name, self.ours_in(kind, pool, name))

    def one_per_name(self, kind, pool, name, found):
        """The first made of ``found`` (the objects of ``name``, in creation order); the others are deleted (in check
        mode, only said)."""
        if len(found) > 1:
            kept, others = shown(found[0]), ', '.join(shown(obj) for obj in found[1:])
            if self.checking:
                self.warnings.append('%s holds %d objects for %r in pool %s; a real run keeps %s, made first, and deletes %s'
                                     % (self.product, len(found), name, pool.cidr, kept, others))
            else:
                for obj in found[1:]:
                    self.delete(kind, obj)
                self.warnings.append('%s held %d objects for %r in pool %s (an answer lost and the request sent again, or '
                                     'another task allocating the same name at the same time): kept %s, made first, and '
                                     'deleted %s' % (self.product, len(found), name, pool.cidr, kept, others))
        return found[0] if found else None

    def confirmed(self, kind, pool, name):
        """What ``name`` holds once an object was made for it, looked up again (see the module's rules)."""
        held = self.find(kind, pool, name)
        if held is None:
            raise BackendError('%s made the %s of %r in pool %s, but no longer holds it for that name (released by '
                               'another task at the same time?): rerun the task' % (self.product, WORDS[kind], name, pool.cidr))
        return held

    def at(self, kind, text):
        """The objects (anyone's) at exactly this address or prefix in our VRF / namespace."""
        return self.list(PATHS[kind], dict(self.dialect.scope(), **{'address' if kind == ADDRESS else 'prefix': text}))

    def holder(self, version, value):
        """Words for the object that holds address ``value``, or None when it is free."""
        found = self.at(ADDRESS, format_address(version, value))
        return self.describe(ADDRESS, found[0]) if found else None

    def describe(self, kind, obj):
        """Words for the holder of an address or prefix: its name when it is ours."""
        if self.ours(obj):
            name = self.names.read(obj)[0]
            if name is not None:
                return repr(name)
        description = obj.get('description')
        return '%s %s %s (id %s%s), which ipam.allocator did not make' % (
            self.product, WORDS[kind], obj.get('address') or obj.get('prefix'), obj['id'],
            ', description %r' % description if description else '')

    # -- tags ---------------------------------------------------------------------------

    def tag_id(self, tag, create=False):
        if tag in self._tag_ids:
            return self._tag_ids[tag]

        def find():
            found = self.objects(TAGS, self.dialect.tag_query(tag))
            return found[0] if found else None

        found = find()
        if found is None and create:
            try:
                found = self.create(TAGS, self.dialect.tag_body(tag), find, 'the tag %r' % tag, TAGS)
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

    def ours(self, obj):
        tags = obj.get('tags') or ()
        if not tags:
            return False
        tag_id = self.tag_id(TAG)
        return tag_id is not None and any(isinstance(tag, dict) and tag.get('id') == tag_id for tag in tags)

    # -- writing ------------------------------------------------------------------------

    def new_body(self, kind, name, description, dns_name=None):
        body = dict(self.dialect.status_fields())
        body['tags'] = [self.dialect.tag_ref(TAG)]
        body.update(self.names.fields(name, description))
        if dns_name and kind == ADDRESS:
            body['dns_name'] = dns_name
        return body

    def delete(self, kind, obj):
        try:
            self.http.delete('%s%s/' % (PATHS[kind], obj['id']))
        except HttpError as exc:
            if exc.status != 404:   # already gone is what we wanted
                raise

    def patch(self, kind, obj, body):
        response = self.http.patch('%s%s/' % (PATHS[kind], obj['id']), body)
        reason = problem(PATHS[kind], response.data)
        if reason is not None:
            raise response.invalid(reason)
        return response.data

    def delete_ours_in(self, cidr):
        """Delete the allocations this collection made inside ``cidr``; other objects stay."""
        for kind, where in ((ADDRESS, self.dialect.ips_in(cidr)), (PREFIX, {'within': cidr})):
            params = dict(self.dialect.scope(), **self.dialect.tag_filter(TAG))
            params.update(where)
            for obj in self.list(PATHS[kind], params):
                if self.names.read(obj)[0] is not None:
                    self.delete(kind, obj)

    def create(self, path, body, find, what, kind):
        """POST ``body``: the object made, checked to be a ``kind`` (a path of remote/objects.py), or None for a 204.

        When the answer is lost (no answer, a timeout, 429/502/503/504: it may have landed), ``find()`` looks the
        object up before anything else is decided, and what it finds is the answer; only when nothing landed is the
        POST sent again, after the transport's backoff.
        """
        tag_made = False
        lost = 0
        while True:
            try:
                response = self.http.post(path, body)
            except HttpError as exc:
                if not tag_made and self._names_our_tag(body) and _tags_refused(exc):
                    # New objects name their tag instead of looking its id up first; the one request
                    # saved per task costs one failed POST the first time the tag is missing.
                    self.tag_id(TAG, create=True)
                    tag_made = True
                    continue
                if not exc.transient:
                    raise
                landed = self._landed(exc, find, what)
                if landed is not None:
                    return landed
                lost += 1
                if lost >= WRITE_ATTEMPTS:
                    raise
                self.http.pause(lost)
                continue
            if isinstance(body, list):
                made = response.data if isinstance(response.data, list) else []
                for item in made:
                    reason = problem(kind, item)
                    if reason is not None:
                        raise response.invalid(reason)
                return made
            made = single(response.data)
            reason = None if made is None else problem(kind, made)
            if reason is not None:
                raise response.invalid(reason)
            return made

    def _names_our_tag(self, body):
        """True when a new object (or each of a bulk list) names the collection's tag by its slug or name."""
        bodies = body if isinstance(body, list) else [body]
        ours = [self.dialect.tag_ref(TAG)]
        return bool(bodies) and all(isinstance(item, dict) and item.get('tags') == ours for item in bodies)

    def _landed(self, exc, find, what):
        """After a lost answer: what ``find()`` finds, or None; an error that says so when it cannot look."""
        try:
            return find()
        except HttpError:
            message = ('%s. Whether %s was made is not known: rerun the task once %s answers; it finds what was made '
                       'by its name and never makes it twice' % (str(exc).rstrip('.'), what, self.product))
        raise HttpError(message, exc.status, exc.data)

    def create_next(self, path, body, find, what, kind, next_one):
        """POST to available-ips or available-prefixes, where the server picks and makes; None (or []) when it is full
        (NetBox: 409, Nautobot: 204).  A request that lost a race between the server's own workers made nothing and
        is sent again with the transport's backoff, a bounded number of times."""
        for attempt in range(1, RACE_ATTEMPTS + 1):
            try:
                return self.create(path, body, find, what, kind)
            except HttpError as exc:
                if exc.status == 409:
                    return [] if isinstance(body, list) else None
                if not _lost_race(exc):
                    raise
            if attempt < RACE_ATTEMPTS:
                self.http.pause(attempt)
        raise BackendError('%s kept answering that %s was taken (%d attempts): too many allocations at once; rerun the '
                           'task' % (self.product, next_one, RACE_ATTEMPTS))
