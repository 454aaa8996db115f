# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""How the remote backends make objects on a server that does not keep names unique.

Part of ``RemoteBackend`` (a mixin: it uses the backend's HTTP client, ``_find``,
``_delete`` and dialect).  Three rules keep one object per name:

- A POST whose answer is lost may have landed: the name is looked up before
  anything else is decided, and the POST is sent again only when nothing was found.
- After an object is made for a name, the name is looked up again.  Two objects
  for one name (the lost POST landed after all; another task allocated the same
  name at the same time) converge on the one the server made first: the others are
  deleted, a warning says so, and every task reports the same address.  NetBox and
  Nautobot make ``available-ips``/``available-prefixes`` objects under one lock, so
  the object made first is also the first any task can see.
- An answer that breaks the API's contract (an address outside the pool, of another
  length or family; the same kept-free address offered twice) stops the task at once:
  what this task made is deleted, and the error says what the server returned.
"""

from __future__ import annotations

from .addresses import parse_address, parse_network
from .errors import BackendError
from .http import HttpError
from .model import ADDRESS, PREFIX
from .remote_objects import IPS, PREFIXES, TAG, problem, single

RACE_ATTEMPTS = 12   # a POST to available-* that lost a race between the server's own workers (nautobot#8297)
WRITE_ATTEMPTS = 3   # a POST whose answer was lost, sent again after finding that it did not land


def _tags_refused(exc):
    """True when the server refused a write only for its ``tags`` (NetBox and Nautobot: a named tag that does not exist)."""
    return exc.status == 400 and isinstance(exc.data, dict) and set(exc.data) == {'tags'}


def _lost_race(exc):
    text = str(exc).lower()
    return exc.status == 400 and ('already exists' in text or 'duplicate' in text)


def _shown(obj):
    return '%s (id %s)' % (obj.get('address') or obj.get('prefix'), obj['id'])


class RemoteWrites:
    """The writes of ``RemoteBackend``: see the module's documentation."""

    def creation_order(self, obj):
        """Sorts objects in the order the server made them (NetBox ids grow; Nautobot's are random, see there)."""
        ident = obj['id']
        return (0, ident, '') if isinstance(ident, int) else (1, 0, str(ident))

    def _create(self, path, body, find, what, kind):
        """POST ``body``: the object made, checked to be a ``kind`` (a path of remote_objects), or None for a 204.

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
                if not tag_made and body.get('tags') == [self.tag_ref(TAG)] and _tags_refused(exc):
                    # New objects name their tag instead of looking its id up first; the one request
                    # saved per task costs one failed POST the first time the tag is missing.
                    self._tag_id(TAG, create=True)
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
            made = single(response.data)
            reason = None if made is None else problem(kind, made)
            if reason is not None:
                raise response.invalid(reason)
            return made

    def _landed(self, exc, find, what):
        """After a lost answer: what ``find()`` finds, or None; an error that says so when it cannot look."""
        try:
            return find()
        except HttpError:
            message = ('%s. Whether %s was made is not known: rerun the task once %s answers; it finds what was made '
                       'by its name and never makes it twice' % (str(exc).rstrip('.'), what, self.product))
        raise HttpError(message, exc.status, exc.data)

    def _create_next(self, path, body, find, what, kind, next_one):
        """POST to available-ips or available-prefixes, where the server picks and makes; None when it is full
        (NetBox: 409, Nautobot: 204).  Nautobot refuses a request that lost a race between its own workers with
        400 "already exists": nothing was made, so it is sent again with the transport's backoff, a bounded
        number of times."""
        for attempt in range(1, RACE_ATTEMPTS + 1):
            try:
                return self._create(path, body, find, what, kind)
            except HttpError as exc:
                if exc.status == 409:
                    return None
                if not _lost_race(exc):
                    raise
            if attempt < RACE_ATTEMPTS:
                self.http.pause(attempt)
        raise BackendError('%s kept answering that %s was taken (%d attempts): too many allocations at once; rerun the '
                           'task' % (self.product, next_one, RACE_ATTEMPTS))

    def _one_per_name(self, kind, pool, name, found):
        """The object ``name`` holds of ``found`` (its objects, in creation order): the first made; the others are
        deleted (in check mode only said)."""
        if len(found) > 1:
            kept, others = _shown(found[0]), ', '.join(_shown(obj) for obj in found[1:])
            if self._checking is not False:
                self._warnings.append('%s holds %d objects for %r in pool %s; a real run keeps %s, made first, and deletes %s'
                                      % (self.product, len(found), name, pool.cidr, kept, others))
            else:
                for obj in found[1:]:
                    self._delete(kind, obj)
                self._warnings.append('%s held %d objects for %r in pool %s (an answer lost and the request sent again, or '
                                      'another task allocating the same name at the same time): kept %s, made first, and '
                                      'deleted %s' % (self.product, len(found), name, pool.cidr, kept, others))
        return found[0] if found else None

    def _confirmed(self, kind, pool, name):
        """What ``name`` holds once an object was made for it, looked up again: another task may have made one for
        the same name at the same time, or an earlier POST of ours may have landed late."""
        held = self._find(kind, pool, name)
        if held is None:
            raise BackendError('%s made the %s of %r in pool %s, but no longer holds it for that name (released by '
                               'another task at the same time?): rerun the task'
                               % (self.product, 'prefix' if kind == PREFIX else 'IP address', name, pool.cidr))
        return held

    def _allocate_next_at(self, path, pool, name, body):
        """The object ``name`` holds once the server made it at ``path``, or None when that prefix or range is full."""
        set_aside = {}      # address -> the placeholder this task made of it
        while True:         # ends: an address is set aside once; offered again, it is refused
            obj = self._create_next(path, body, lambda: self._find(ADDRESS, pool, name), 'the address of %r' % name, IPS,
                                    'the next address of pool %s' % pool.cidr)
            if obj is None:
                return None
            value = parse_address(obj['address'].split('/', 1)[0])[1]
            reason = self._refused_offer(path, pool, obj, value, set_aside)
            if reason is None:
                return self._confirmed(ADDRESS, pool, name)
            self._set_aside(obj, reason)
            set_aside[value] = obj

    def _refused_offer(self, path, pool, obj, value, set_aside):
        """None when the address the server made is one our rules allow; why not when it is one the server may
        rightly offer but we keep free (the network or broadcast address, IPv6's subnet-router anycast address).
        Anything else breaks the server's contract: what this task made (that object, and the placeholders of
        ``set_aside``) is deleted, so a failed task leaves the server as it was, and the error says what came."""
        network = pool.network
        version = parse_address(obj['address'].split('/', 1)[0])[0]
        if version != network.version:
            broken = 'not IPv%d like the pool' % network.version
        elif not obj['address'].endswith('/%d' % network.prefix_length):
            broken = 'not of the prefix length of the pool (/%d)' % network.prefix_length
        else:
            reason = pool.settings.allowed_for_address(value)
            low, high = network.usable_bounds()
            if reason is None or (value in network and not low <= value <= high and value not in set_aside):
                return reason
            broken = 'offered again after it was kept free' if value in set_aside else reason
        for made in [obj] + list(set_aside.values()):
            self._delete(ADDRESS, made)
        raise BackendError('%s answered POST /%s with %s, which is %s: the server does not allocate from pool %s as its API '
                           'says. What this task made was deleted and nothing is allocated; check the prefix and its IP '
                           'ranges in %s' % (self.product, path, obj['address'], broken, pool.cidr, self.product))

    def _set_aside(self, obj, reason):
        """The server offered an address our rules forbid (Nautobot: the IPv6 subnet-router anycast address): keep it as a
        reserved placeholder, not an allocation, so neither the server nor we offer it again."""
        body = dict(self.reserved_fields(), tags=[], description='kept free by ipam.allocator: %s' % reason)
        if self.key_field is not None:
            body['custom_fields'] = {self.key_field: None}
        self.http.patch('%s%s/' % (IPS, obj['id']), body)

    def _allocate_next_prefix(self, pool, name, length, description):
        """The prefix ``name`` holds once the server made the next /``length`` of ``pool``; exhausted when none is left."""
        body = self._new_body(PREFIX, name, description)
        body['prefix_length'] = length
        path = pool.path + 'available-prefixes/'
        obj = self._create_next(path, body, lambda: self._find(PREFIX, pool, name), 'the prefix of %r' % name, PREFIXES,
                                'the next /%d of pool %s' % (length, pool.cidr))
        if obj is None:
            raise self._prefix_exhausted(pool, length)
        made = parse_network(obj['prefix'], strict=False)
        if (made.version != pool.network.version or made.prefix_length != length
                or not pool.network.contains_block(made.first, made.last)):
            self._delete(PREFIX, obj)
            raise BackendError('%s answered POST /%s with %s, which is not a /%d inside pool %s: the server does not '
                               'allocate as its API says. The prefix it made was deleted and nothing is allocated'
                               % (self.product, path, obj['prefix'], length, pool.cidr))
        return self._confirmed(PREFIX, pool, name)
