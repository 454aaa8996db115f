#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: ip_pool
short_description: Define a pool of addresses to allocate from
description:
  - On the file backend, creates, updates or removes a named pool in the store.
  - On a remote backend, ensures the prefix O(cidr) exists.
  - Updating a pool changes only the options the task gives; an option left out keeps its value, so a rerun with fewer
    options reports no change. To clear an option, give it empty (V([]) for a list, V("") for the others).
  - Changing a pool never strands an allocation. New ranges, reserved entries or a new gateway that would collide
    with a live allocation fail and name it.
  - A pool never overlaps another pool of the same store, except a prefix carved from it (O(parent)); such a pool
    is refused and the other pool named. On NetBox and Nautobot, prefixes nest by design, and the server's own
    hierarchy decides.
  - In check mode nothing is written and the result is what a real run would return.
version_added: 0.1.0
author:
  - ipam.allocator contributors (@ipam-allocator)
extends_documentation_fragment:
  - ipam.allocator.backend
  - ipam.allocator.backend.actiongroup
options:
  name:
    description:
      - Name of the pool, used as O(ipam.allocator.ip_address#module:pool) by the other modules and the lookups.
      - Printable characters only, no white space at either end, at most 200 characters (the rule of allocation
        names, see O(ipam.allocator.ip_address#module:name)).
    type: str
    required: true
  cidr:
    description:
      - The pool's network, for example V(10.0.0.0/24) or V(2001:db8::/64). Host bits must be zero.
      - Required with O(state=present).
    type: str
  ranges:
    description:
      - Allocate only from these ranges (V(10.0.0.10-10.0.0.99), a single address, or a CIDR inside O(cidr)).
      - Ranges may touch but not overlap. Without ranges the whole prefix is used.
      - With O(backend=netbox) the ranges are NetBox IP range objects inside the prefix, made and updated by this
        module; left unset, the prefix's ranges are left as they are. O(backend=nautobot) has no IP ranges.
    type: list
    elements: str
  reserved:
    description:
      - Addresses, ranges or CIDRs inside O(cidr) that are never allocated.
    type: list
    elements: str
  gateway:
    description:
      - The gateway of the network. Never allocated; returned with every allocation. Must be inside O(cidr).
    type: str
  description:
    description:
      - Free text about the pool.
    type: str
  min_prefix_length:
    description:
      - For M(ipam.allocator.ip_prefix), the shortest prefix (largest subnet) a request may ask for.
      - An integer; V("") clears it.
    type: raw
  max_prefix_length:
    description:
      - For M(ipam.allocator.ip_prefix), the longest prefix (smallest subnet) a request may ask for.
      - An integer; V("") clears it.
    type: raw
  default_prefix_length:
    description:
      - For M(ipam.allocator.ip_prefix), the prefix length used when a request gives none.
      - An integer; V("") clears it.
    type: raw
  parent:
    description:
      - Make this pool from a prefix allocated in the pool O(parent) with M(ipam.allocator.ip_prefix); O(cidr) must be
        that prefix. Releasing the prefix then refuses while this pool holds allocations.
    type: str
  state:
    description:
      - V(present) creates or updates the pool, V(absent) removes it.
    type: str
    choices: [present, absent]
    default: present
  force:
    description:
      - With O(state=absent), remove the pool even if it still holds allocations (they are released).
    type: bool
    default: false
seealso:
  - module: ipam.allocator.ip_address
'''

EXAMPLES = r'''
- name: A lab network with a gateway, hosts from .10 to .99 and one reserved address
  ipam.allocator.ip_pool:
    store: /srv/ipam/store.yml
    name: lab
    cidr: 10.0.0.0/24
    gateway: 10.0.0.1
    ranges:
      - 10.0.0.10-10.0.0.99
    reserved:
      - 10.0.0.50
    description: Lab hosts

- name: An IPv6 pool
  ipam.allocator.ip_pool:
    store: /srv/ipam/store.yml
    name: lab6
    cidr: 2001:db8:0:1::/64
    gateway: 2001:db8:0:1::1

- name: Remove a pool and every allocation in it
  ipam.allocator.ip_pool:
    store: /srv/ipam/store.yml
    name: old-lab
    state: absent
    force: true
'''

RETURN = r'''
pool:
  description: The pool as it is after the task (with O(state=absent), as it was), plus its counters.
  returned: success
  type: dict
  contains:
    name:
      description: Pool name.
      type: str
      returned: success
    cidr:
      description: The pool's network.
      type: str
      returned: success
      sample: 10.0.0.0/24
    ranges:
      description: Allocation ranges.
      type: list
      elements: str
      returned: success
    reserved:
      description: Reserved entries.
      type: list
      elements: str
      returned: success
    gateway:
      description: The gateway.
      type: str
      returned: success
    description:
      description: The description.
      type: str
      returned: success
    size:
      description: How many addresses the pool can give out.
      type: int
      returned: success
      sample: 89
    used:
      description: How many of them are allocated.
      type: int
      returned: success
    free:
      description: How many are left.
      type: int
      returned: success
  sample:
    name: lab
    cidr: 10.0.0.0/24
    ranges: [10.0.0.10-10.0.0.99]
    reserved: [10.0.0.50]
    gateway: 10.0.0.1
    description: Lab hosts
    size: 89
    used: 0
    free: 89
diff:
  description: The pool before and after.
  returned: success
  type: dict
'''

from ansible_collections.ipam.allocator.plugins.module_utils._ipam.argspec import IP_POOL
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.module import run_module
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.tasks import run_ip_pool


def main():
    run_module(IP_POOL, run_ip_pool)


if __name__ == '__main__':
    main()
