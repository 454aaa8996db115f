# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""The allocation rules, written once against ``PoolSpace``/``StoreState``, for every backend.

This is where backends import the rules from; they live by concern:

- ``plans.py``: ``Change`` (a planned change) and ``apply``; what every rule shares;
- ``address_rules.py``: which address a name gets, alone or in a list, and releases;
- ``prefix_rules.py``: which prefix a name gets (best fit), alone or in a list, and releases;
- ``pool_rules.py``: what ``ip_pool`` may change, nesting and removal of pools, lookups across pools.

Every rule *plans*: it returns a ``Change`` without touching the store.  ``apply()``
then makes it so.  Check mode simply does not apply, which is why its prediction is
the address a real run takes.
"""

from __future__ import annotations

from .address_rules import (
    free_addresses,
    next_free_address,
    peek_addresses,
    plan_address,
    plan_address_release,
    plan_address_releases,
    plan_addresses,
    requested_address,
)
from .plans import Change, apply, exhausted_error, plan_many, record_text, with_fields
from .pool_rules import (
    POOL_OPTIONS,
    child_pools,
    matching_records,
    parent_prefix_allocated,
    plan_pool,
    plan_pool_removal,
    pool_request,
)
from .prefix_rules import free_prefixes, peek_prefixes, plan_prefix, plan_prefix_release, plan_prefixes, requested_length

__all__ = (
    'POOL_OPTIONS', 'Change', 'apply', 'child_pools', 'exhausted_error', 'free_addresses', 'free_prefixes',
    'matching_records', 'next_free_address', 'parent_prefix_allocated', 'peek_addresses', 'peek_prefixes',
    'plan_address', 'plan_address_release', 'plan_address_releases', 'plan_addresses', 'plan_many', 'plan_pool',
    'plan_pool_removal', 'plan_prefix', 'plan_prefix_release', 'plan_prefixes', 'pool_request', 'record_text',
    'requested_address', 'requested_length', 'with_fields',
)
