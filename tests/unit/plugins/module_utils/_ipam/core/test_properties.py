# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Random sequences of pool/allocate/release against a model written the obvious way.

The model enumerates addresses (fine for a /27); the engine never does.  After
every step the store, reopened from disk, and the model must agree, and no
address may be held twice.
"""

from __future__ import annotations

import ipaddress
import tempfile

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.ipam.allocator.plugins.module_utils._ipam.registry import load_backend
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.core.errors import (
    ConflictError,
    OutOfPoolError,
    PoolExhaustedError,
    PoolInUseError,
)

NETWORKS = {4: ipaddress.ip_network('10.0.0.0/27'), 6: ipaddress.ip_network('2001:db8::/123')}
NAMES = ['n%d' % index for index in range(12)]


class Model:
    def __init__(self, network, gateway_offset, reserved_offsets, range_offsets):
        self.network = network
        hosts = list(network)
        self.gateway = hosts[gateway_offset] if gateway_offset is not None else None
        self.reserved = {hosts[offset] for offset in reserved_offsets}
        allowed = hosts[1:-1] if network.version == 4 else hosts[1:]
        if range_offsets is not None:
            low, high = sorted(range_offsets)
            allowed = [address for address in allowed if hosts[low] <= address <= hosts[high]]
        self.allowed = [address for address in allowed if address != self.gateway and address not in self.reserved]
        self.held = {}

    def allocate(self, name, address=None):
        if address is None:
            if name in self.held:
                return self.held[name]
            taken = set(self.held.values())
            for candidate in self.allowed:
                if candidate not in taken:
                    self.held[name] = candidate
                    return candidate
            raise PoolExhaustedError('model: exhausted')
        if self.held.get(name) == address:
            return address
        if address not in self.allowed:
            raise OutOfPoolError('model: not allowed')
        if address in self.held.values():
            raise ConflictError('model: held')
        self.held[name] = address
        return address


def pool_params(model, gateway_offset, reserved_offsets, range_offsets):
    hosts = list(model.network)
    params = {'name': 'p', 'cidr': str(model.network)}
    if gateway_offset is not None:
        params['gateway'] = str(hosts[gateway_offset])
    if reserved_offsets:
        params['reserved'] = [str(hosts[offset]) for offset in sorted(reserved_offsets)]
    if range_offsets is not None:
        low, high = sorted(range_offsets)
        params['ranges'] = ['%s-%s' % (hosts[low], hosts[high])]
    return params


steps = st.lists(st.tuples(st.sampled_from(['allocate', 'allocate', 'specific', 'release', 'reopen']),
                           st.sampled_from(NAMES), st.integers(0, 31)), min_size=1, max_size=40)


@pytest.mark.parametrize('extension', ['yml', 'json', 'sqlite'])
@settings(max_examples=40, deadline=None)
@given(version=st.sampled_from([4, 6]), gateway_offset=st.one_of(st.none(), st.integers(1, 30)),
       reserved_offsets=st.sets(st.integers(1, 30), max_size=4),
       range_offsets=st.one_of(st.none(), st.tuples(st.integers(0, 31), st.integers(0, 31))), operations=steps)
def test_store_agrees_with_model(extension, version, gateway_offset, reserved_offsets, range_offsets, operations):
    network = NETWORKS[version]
    model = Model(network, gateway_offset, reserved_offsets, range_offsets)
    with tempfile.TemporaryDirectory() as directory:
        path = '%s/store.%s' % (directory, extension)
        backend = load_backend({'store': path})
        backend.ensure_pool(pool_params(model, gateway_offset, reserved_offsets, range_offsets))
        hosts = list(network)
        for action, name, offset in operations:
            if action == 'reopen':
                backend = load_backend({'store': path})
                continue
            if action == 'release':
                model.held.pop(name, None)
                backend.release('p', name)
                continue
            wanted = hosts[offset] if action == 'specific' else None
            try:
                expected = model.allocate(name, wanted)
            except (PoolExhaustedError, OutOfPoolError, ConflictError) as model_error:
                with pytest.raises(type(model_error)):
                    backend.allocate('p', name, address=str(wanted) if wanted else None)
            else:
                got = backend.allocate('p', name, address=str(wanted) if wanted else None)
                assert ipaddress.ip_address(got.after['address']) == expected
            stored = {view['name']: ipaddress.ip_address(view['address'])
                      for view in load_backend({'store': path}).allocations(pool='p')}
            assert stored == model.held
            assert len(set(stored.values())) == len(stored)
        pools = backend.pools('p')[0]
        assert pools['size'] == len(model.allowed) and pools['used'] == len(model.held)
        if model.held:
            with pytest.raises(PoolInUseError):
                backend.remove_pool('p')
