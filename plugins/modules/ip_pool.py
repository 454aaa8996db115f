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
      - The ranges are a set, kept and returned in address order; the same ranges in another order are no change.
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
  description:
    - The pool as it is after the task (with O(state=absent), as it was), with its counters.
    - On a remote backend, the prefix as the server holds it.
    - In check mode nothing is written and this is what a real run would return. The prediction is passed on to the
      same run's later check-mode tasks and lookups, of every host, through the file
      C(ipam_allocator_predictions.jsonl) in the run's private temporary directory (the C(ansible-local-*) directory
      that ansible-core makes under its C(local_tmp) setting, E(ANSIBLE_LOCAL_TEMP), and deletes when the run ends).
      No later run sees it, whatever fact cache is configured.
  returned: success
  type: dict
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
  contains:
    name:
      description: Pool name (on a remote backend, the prefix's CIDR).
      type: str
      returned: success
      sample: lab
    cidr:
      description: The pool's network.
      type: str
      returned: success
      sample: 10.0.0.0/24
    ranges:
      description: The ranges addresses are allocated from; V([]) when the whole prefix is used.
      type: list
      elements: str
      returned: success
      sample: [10.0.0.10-10.0.0.99]
    reserved:
      description: Addresses and ranges that are never allocated; V([]) when there are none.
      type: list
      elements: str
      returned: success
      sample: [10.0.0.50]
    gateway:
      description: The gateway, or V(null).
      type: str
      returned: success
      sample: 10.0.0.1
    description:
      description: The pool's description, or V(null).
      type: str
      returned: success
      sample: Lab hosts
    min_prefix_length:
      description: The shortest prefix M(ipam.allocator.ip_prefix) may allocate in this pool.
      type: int
      returned: when set
      sample: 20
    max_prefix_length:
      description: The longest prefix M(ipam.allocator.ip_prefix) may allocate in this pool.
      type: int
      returned: when set
      sample: 28
    default_prefix_length:
      description: The prefix length M(ipam.allocator.ip_prefix) allocates when a request gives none.
      type: int
      returned: when set
      sample: 26
    parent:
      description: The pool this pool's prefix was allocated from with M(ipam.allocator.ip_prefix).
      type: str
      returned: when the pool was made from a prefix
      sample: sites
    size:
      description:
        - How many addresses the pool can give out, that is its ranges (or the whole prefix) less the network and IPv4
          broadcast addresses, the gateway and the reserved entries.
      type: int
      returned: success
      sample: 89
    used:
      description: How many of them are allocated.
      type: int
      returned: success
      sample: 1
    free:
      description: How many are left to allocate.
      type: int
      returned: success
      sample: 88
diff:
  description: The pool before and after the task, each with the keys of RV(pool).
  returned: success
  type: dict
  contains:
    before:
      description: The pool before the task; V({}) when the task creates it.
      type: dict
      returned: success
      sample: {}
    after:
      description: The pool after the task; V({}) when the task removes it.
      type: dict
      returned: success
      sample: {name: lab, cidr: 10.0.0.0/24, ranges: [], reserved: [], gateway: null, description: null, size: 254,
               used: 0, free: 254}
'''

from ansible_collections.ipam.allocator.plugins.module_utils._ipam.argspec import IP_POOL
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.module import run_module
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.runners import run_ip_pool


def main():
    run_module(IP_POOL, run_ip_pool)


if __name__ == '__main__':
    main()
