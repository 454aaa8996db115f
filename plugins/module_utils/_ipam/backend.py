# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""The one interface every module, action plugin, lookup and inventory plugin uses.

A backend takes plain options (never an AnsibleModule or a plugin object) and
answers with plain dicts shaped by ``model.record_view``/``model.pool_view``.
``registry.load_backend()`` chooses and opens one; this module imports no
backend, so every backend can import it.  See docs/backends.md for how to
write one.
"""

from __future__ import annotations

import abc
import math

from .core.bulk import planning_order
from .core.errors import BackendError, InvalidInputError, IpamError
# Part of the interface: every option a backend may read (declared with its type and default in options.py).
from .options import BACKEND_OPTIONS, SECRET_OPTIONS  # noqa: F401  pylint: disable=unused-import


def seconds_option(options, key, default, zero_allowed=True):
    """The number of seconds an option gives: finite, not negative (above 0 unless ``zero_allowed``)."""
    value = options.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or value < 0 or (value == 0 and not zero_allowed):
        raise InvalidInputError('%s %r must be a finite number of seconds, %s' % (
            key, value, '0 or more' if zero_allowed else 'above 0'))
    return value


class Outcome:
    """The answer to a change request: ``before``/``after`` views ({} when absent)."""

    __slots__ = ('changed', 'before', 'after')

    def __init__(self, changed, before, after):
        self.changed = changed
        self.before = before or {}
        self.after = after or {}

    @property
    def diff(self):
        return {'before': self.before, 'after': self.after}


class BulkOutcome:
    """The answer to a request for many names: one ``Outcome`` per name, in the order the names were given."""

    __slots__ = ('outcomes',)

    def __init__(self, outcomes):
        #: name -> Outcome, in request order
        self.outcomes = outcomes

    @property
    def changed(self):
        return any(outcome.changed for outcome in self.outcomes.values())

    @property
    def diff(self):
        """Before and after of the names that change, keyed by name (a rerun shows two empty mappings)."""
        changed = [(name, outcome) for name, outcome in self.outcomes.items() if outcome.changed]
        return {'before': {name: outcome.before for name, outcome in changed if outcome.before},
                'after': {name: outcome.after for name, outcome in changed if outcome.after}}


class Backend(abc.ABC):
    """Where pools and allocations live.

    Every method that changes something takes ``check_mode``: then it changes
    nothing and returns the Outcome a real call would have produced.
    """

    #: the name users choose it by (``backend: file``)
    name = None

    def __init__(self, options):
        #: The options it was opened with, but the token: a backend object can end up printed (a debugger, a
        #: traceback's locals, a test's failure report), so a backend that needs the token takes it from the
        #: ``options`` argument into its connection (the remote backends' HTTP session) and nowhere else.
        self.options = {key: value for key, value in options.items() if key not in SECRET_OPTIONS}
        #: Check mode only: the changes that earlier check-mode tasks and lookups of this run predicted,
        #: as recorded in ``predicted`` (JSON-able dicts, each naming the store or server it is about).
        #: A backend applies them in memory before it answers, reads included, so that a chain of
        #: tasks (a prefix, then a pool in it, then addresses) is predicted the way a real run makes it.
        self.pending = []
        #: Check mode only: the changes this backend predicted, for the run's later tasks' ``pending``.
        self.predicted = []
        self._warnings = []

    @property
    def warnings(self):
        """Messages for the user that are not errors; every plugin type shows them as Ansible warnings."""
        return self._warnings

    # -- reading -----------------------------------------------------------------

    @abc.abstractmethod
    def pools(self, name=None):
        """Pool views (``name``, ``cidr``, ..., ``size``, ``used``, ``free``), optionally of one pool."""

    @abc.abstractmethod
    def allocations(self, pool=None, name=None, address=None):
        """Address record views matching every filter given, sorted by pool then address."""

    @abc.abstractmethod
    def peek(self, pool, count=1):
        """The next ``count`` free addresses of ``pool`` as record views without a name; reserves nothing."""

    # -- changing ----------------------------------------------------------------

    @abc.abstractmethod
    def ensure_pool(self, params, check_mode=False):
        """Create or update a pool from ``ip_pool`` options; Outcome of pool views."""

    @abc.abstractmethod
    def remove_pool(self, name, force=False, check_mode=False):
        """Remove a pool; with allocations only when ``force``."""

    @abc.abstractmethod
    def allocate(self, pool, name, address=None, mac=None, description=None, dns_name=None, check_mode=False):
        """Give ``name`` an address in ``pool`` (its current one, ``address``, the EUI-64 of ``mac``, or the lowest free)."""

    @abc.abstractmethod
    def release(self, pool, name=None, address=None, check_mode=False):
        """Release the address held by ``name`` (or the holder of ``address``); nothing held is not an error."""

    # -- many names at once ---------------------------------------------------------
    #
    # ``requests`` is a list of ``bulk.AddressRequest`` / ``bulk.PrefixRequest`` with distinct,
    # valid names (``bulk.requests_from_items`` checked them); the answer is a ``BulkOutcome``.
    # The defaults below call the single-name methods one request at a time, in
    # ``bulk.planning_order``: correct, but NOT atomic (a request that fails leaves the ones
    # before it done, and the error says so) and one round trip per name.  A backend that can
    # do better overrides them: the file backend plans the whole list and writes it under one
    # lock; a server backend can read the names already held with one list request and create
    # the new ones with one bulk POST.  In check mode the defaults rely on the backend passing
    # each single call's prediction on to the next (``self.predicted``), as the built-in ones do.

    def bulk_allocate(self, pool, requests, check_mode=False):
        """``allocate`` for every ``AddressRequest``; BulkOutcome."""
        return self._one_by_one(requests, 'allocated', lambda request: self.allocate(
            pool, request.name, address=request.address, mac=request.mac, description=request.description,
            dns_name=request.dns_name, check_mode=check_mode))

    def bulk_release(self, pool, requests, check_mode=False):
        """``release`` for every ``AddressRequest`` (its ``name``, and ``address`` when given); BulkOutcome."""
        return self._one_by_one(requests, 'released', lambda request: self.release(
            pool, name=request.name, address=request.address, check_mode=check_mode))

    def bulk_allocate_prefix(self, pool, requests, check_mode=False):
        """``allocate_prefix`` for every ``PrefixRequest``; BulkOutcome."""
        return self._one_by_one(requests, 'allocated', lambda request: self.allocate_prefix(
            pool, request.name, prefix_length=request.prefix_length, prefix=request.prefix,
            description=request.description, check_mode=check_mode))

    def bulk_release_prefix(self, pool, requests, force=False, check_mode=False):
        """``release_prefix`` for every ``PrefixRequest``; BulkOutcome."""
        return self._one_by_one(requests, 'released', lambda request: self.release_prefix(
            pool, name=request.name, prefix=request.prefix, force=force, check_mode=check_mode))

    @staticmethod
    def _one_by_one(requests, done, call):
        outcomes = {}
        for request in planning_order(requests):
            try:
                outcomes[request.name] = call(request)
            except IpamError as exc:
                changed = [name for name, outcome in outcomes.items() if outcome.changed]
                note = ' (this backend changes one name at a time: %d name(s) before it were %s: %s)' % (
                    len(changed), done, ', '.join(map(repr, changed))) if changed else ''
                raise type(exc)('%s: %s%s' % (request.label, exc, note)) from None
        return BulkOutcome({request.name: outcomes[request.name] for request in requests})

    # -- prefixes (optional: a backend without them raises BackendError) -------------

    def prefixes(self, pool=None, name=None, prefix=None):
        raise BackendError('Backend %r does not allocate prefixes' % self.name)

    def peek_prefix(self, pool, prefix_length=None, count=1):
        raise BackendError('Backend %r does not allocate prefixes' % self.name)

    def allocate_prefix(self, pool, name, prefix_length=None, prefix=None, description=None, check_mode=False):
        raise BackendError('Backend %r does not allocate prefixes' % self.name)

    def release_prefix(self, pool, name=None, prefix=None, force=False, check_mode=False):
        raise BackendError('Backend %r does not allocate prefixes' % self.name)

    def close(self):
        """Release connections; called once the caller is done."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
        return False
