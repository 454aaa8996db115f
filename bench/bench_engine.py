# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Engine benchmark: one allocation, in process, vs pool size and vs live allocations.

Each case builds a pool in memory (the YAML/JSON stores' representation), builds
its occupied set, then times ``plan_address`` + ``apply`` for new names. The live
allocations are fragmented (every other address), the hard case: the lowest
free address sits between two held ones and each allocation merges intervals.
"""

from __future__ import annotations

import gc
import ipaddress
import json
import sys
import time

from common import collection_importable

collection_importable()

from ansible_collections.ipam.allocator.plugins.module_utils._ipam.core.engine import apply, plan_address  # noqa: E402
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.core.model import ADDRESS, PREFIX, PoolSettings  # noqa: E402
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.core.state import MemoryPoolSpace  # noqa: E402

OPERATIONS = 2000


def build_space(cidr, live, stride=2):
    settings = PoolSettings.from_params(name='bench', cidr=cidr)
    network = ipaddress.ip_network(cidr)
    base = int(network.network_address) + 1
    version = network.version
    entries = {}
    for index in range(live):
        address = str(ipaddress.ip_address(base + index * stride)) if version == 6 else str(ipaddress.IPv4Address(base + index * stride))
        entries['live%d' % index] = {'name': 'live%d' % index, 'address': address}
    space = MemoryPoolSpace(settings, {ADDRESS: entries, PREFIX: {}}, 'benchmark')
    space.occupied()
    return space


def per_allocation(space, operations=OPERATIONS, tag='new'):
    # The pool's million objects are frozen out of the cyclic GC, as in a worker that loads
    # the store, allocates and exits: what is timed is the allocation, not GC scans of the pool.
    gc.collect()
    gc.freeze()
    try:
        started = time.perf_counter()
        for index in range(operations):
            apply(space, plan_address(space, '%s%d' % (tag, index)))
        return (time.perf_counter() - started) / operations
    finally:
        gc.unfreeze()


def run(quick=False):
    operations = 200 if quick else OPERATIONS
    sizes = [('10.0.0.0/24', 'IPv4 /24'), ('10.0.0.0/16', 'IPv4 /16'), ('10.0.0.0/8', 'IPv4 /8'), ('2001:db8::/64', 'IPv6 /64')]
    by_size = []
    for cidr, label in sizes:
        space = build_space(cidr, 20)
        # A /24 holds 254: 20 live + up to 200 new keeps it from filling up.
        count = min(operations, 200) if cidr.endswith('/24') else operations
        by_size.append({'pool': label, 'live': 20, 'seconds': per_allocation(space, count)})
    by_live = []
    for live in ((100, 10000, 100000) if quick else (100, 10000, 1000000)):
        space = build_space('10.0.0.0/8', live)
        seconds = min(per_allocation(space, operations, 'round%d-' % round_number) for round_number in range(3))
        by_live.append({'pool': 'IPv4 /8', 'live': live, 'seconds': seconds})
        del space
    return {'by_size': by_size, 'by_live': by_live, 'operations': operations}


if __name__ == '__main__':
    json.dump(run('--quick' in sys.argv), sys.stdout, indent=2)
