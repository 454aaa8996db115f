# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""The exception hierarchy shared by the engine, the stores and the backends.

Every plugin type turns an ``IpamError`` into Ansible's own failure in exactly one
place (``fail_json``, ``AnsibleActionFail``, ``AnsibleLookupError``,
``AnsibleParserError``).  Anything that is not an ``IpamError`` is a bug and is
allowed to surface as a traceback.
"""

from __future__ import annotations


class IpamError(Exception):
    """Base class: the message is written for the person who runs the playbook."""


class InvalidInputError(IpamError):
    """A value given by the user is malformed or contradictory (bad CIDR, bad range...)."""


class PoolNotFoundError(IpamError):
    """The named pool does not exist."""


class PoolExhaustedError(IpamError):
    """No free address (or prefix) is left that satisfies the request."""


class OutOfPoolError(IpamError):
    """A requested address or prefix lies outside the pool's allocatable space."""


class ConflictError(IpamError):
    """A requested address or prefix is held by another name (the message names it)."""


class PoolInUseError(IpamError):
    """A pool or prefix cannot be removed or changed while it holds allocations."""


class StoreError(IpamError):
    """The store cannot be read, parsed or written."""


class StoreLockTimeoutError(StoreError):
    """The store's lock was not obtained within ``lock_timeout`` seconds."""


class BackendError(IpamError):
    """A backend is unknown, misconfigured or failed to answer."""
