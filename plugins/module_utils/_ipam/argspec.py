# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""Argument specs as data, shared by each module and its action plugin."""

from __future__ import annotations

from ansible.module_utils.common.parameters import env_fallback

from .options import BACKEND_OPTIONS, OPTIONS


def _argument(option):
    """A module's argument spec of a backend option (``options.BackendOption``)."""
    spec = dict(type=option.type)
    if option.default is not None:
        spec['default'] = option.default
    if option.no_log is not None:
        spec['no_log'] = option.no_log
    if option.module_env:
        spec['fallback'] = (env_fallback, [option.env])
    return spec


BACKEND_ARGSPEC = {option.name: _argument(option) for option in OPTIONS}


def with_backend(**options):
    spec = dict(BACKEND_ARGSPEC)
    spec.update(options)
    return spec


IP_POOL = dict(
    argument_spec=with_backend(
        name=dict(type='str', required=True),
        cidr=dict(type='str'),
        ranges=dict(type='list', elements='str'),
        reserved=dict(type='list', elements='str'),
        gateway=dict(type='str'),
        description=dict(type='str'),
        # An integer, or "" to clear it: checked by the engine (engine.pool_request).
        min_prefix_length=dict(type='raw'),
        max_prefix_length=dict(type='raw'),
        default_prefix_length=dict(type='raw'),
        parent=dict(type='str'),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        force=dict(type='bool', default=False),
    ),
    required_if=[('state', 'present', ('cidr',))],
)

IP_ADDRESS = dict(
    argument_spec=with_backend(
        pool=dict(type='str', required=True),
        name=dict(type='str'),
        # Many names in one task: each item a name or a mapping (bulk.requests_from_items checks them).
        names=dict(type='list', elements='raw'),
        address=dict(type='str'),
        mac=dict(type='str'),
        description=dict(type='str'),
        dns_name=dict(type='str'),
        state=dict(type='str', default='present', choices=['present', 'absent']),
    ),
    required_if=[('state', 'present', ('name', 'names'), True), ('state', 'absent', ('name', 'address', 'names'), True)],
    mutually_exclusive=[('address', 'mac'), ('name', 'names'), ('address', 'names'), ('mac', 'names')],
)

IP_PREFIX = dict(
    argument_spec=with_backend(
        pool=dict(type='str', required=True),
        name=dict(type='str'),
        names=dict(type='list', elements='raw'),
        prefix_length=dict(type='int'),
        prefix=dict(type='str'),
        description=dict(type='str'),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        force=dict(type='bool', default=False),
    ),
    required_if=[('state', 'present', ('name', 'names'), True), ('state', 'absent', ('name', 'prefix', 'names'), True)],
    mutually_exclusive=[('name', 'names'), ('prefix', 'names')],
)

IP_ADDRESS_INFO = dict(
    argument_spec=with_backend(
        pool=dict(type='str'),
        name=dict(type='str'),
        address=dict(type='str'),
    ),
)


def backend_options(params):
    """The backend's share of a module's validated parameters."""
    return {key: params.get(key) for key in BACKEND_OPTIONS}
