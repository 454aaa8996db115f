#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: ip_address_info
short_description: List allocations and pools
description:
  - Returns the allocations and pools that match every filter given. Never changes anything.
version_added: 0.1.0
author:
  - ipam.allocator contributors (@ipam-allocator)
extends_documentation_fragment:
  - ipam.allocator.backend
  - ipam.allocator.backend.actiongroup
attributes:
  check_mode:
    support: full
    details: Reads only. In check mode it shows what the run's earlier check-mode tasks and lookups predicted.
  diff_mode:
    support: none
    details: Reads only; there is nothing to diff.
options:
  pool:
    description:
      - Only this pool.
    type: str
  name:
    description:
      - Only allocations held by this name.
    type: str
  address:
    description:
      - Only the allocation holding this address.
    type: str
seealso:
  - module: ipam.allocator.ip_address
'''

EXAMPLES = r'''
- name: Everything in the store
  ipam.allocator.ip_address_info:
    store: /srv/ipam/store.yml
  register: ipam

- name: Who holds 10.0.0.12?
  ipam.allocator.ip_address_info:
    store: /srv/ipam/store.yml
    address: 10.0.0.12
  register: holder

- name: Show a table of host and address
  ansible.builtin.debug:
    msg: "{{ ipam.allocations | items2dict(key_name='name', value_name='address') }}"
'''

RETURN = r'''
allocations:
  description:
    - The matching allocations, by pool then address.
    - In check mode, the allocations as the run's earlier check-mode tasks and lookups predicted them (see
      M(ipam.allocator.ip_address) for where predictions live).
  returned: always
  type: list
  elements: dict
  contains:
    pool:
      description: The pool.
      type: str
      returned: always
      sample: lab
    name:
      description: The name that holds the address.
      type: str
      returned: always
      sample: web01
    address:
      description: The address.
      type: str
      returned: always
      sample: 10.0.0.10
    cidr:
      description: The address with the pool's prefix length.
      type: str
      returned: always
      sample: 10.0.0.10/24
    prefix_length:
      description: The pool's prefix length.
      type: int
      returned: always
      sample: 24
    gateway:
      description: The pool's gateway, or V(null).
      type: str
      returned: always
      sample: 10.0.0.1
    description:
      description: The allocation's description, or V(null).
      type: str
      returned: always
    dns_name:
      description: The allocation's DNS name, or V(null).
      type: str
      returned: always
      sample: web01.lab.example.com
  sample:
    - pool: lab
      name: web01
      address: 10.0.0.10
      cidr: 10.0.0.10/24
      prefix_length: 24
      gateway: 10.0.0.1
      description: null
      dns_name: web01.lab.example.com
pools:
  description:
    - The matching pools, with their settings and counters (the same keys as RV(ipam.allocator.ip_pool#module:pool)).
    - On a remote backend without O(pool), the prefixes that hold allocations made by this collection.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Pool name (on a remote backend, the prefix's CIDR).
      type: str
      returned: always
      sample: lab
    cidr:
      description: The pool's network.
      type: str
      returned: always
      sample: 10.0.0.0/24
    ranges:
      description: The ranges addresses are allocated from; V([]) when the whole prefix is used.
      type: list
      elements: str
      returned: always
      sample: [10.0.0.10-10.0.0.99]
    reserved:
      description: Addresses and ranges that are never allocated; V([]) when there are none.
      type: list
      elements: str
      returned: always
      sample: [10.0.0.50]
    gateway:
      description: The gateway, or V(null).
      type: str
      returned: always
      sample: 10.0.0.1
    description:
      description: The pool's description, or V(null).
      type: str
      returned: always
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
      returned: always
      sample: 89
    used:
      description: How many of them are allocated.
      type: int
      returned: always
      sample: 1
    free:
      description: How many are left to allocate.
      type: int
      returned: always
      sample: 88
'''

from ansible_collections.ipam.allocator.plugins.module_utils._ipam.argspec import IP_ADDRESS_INFO
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.module import run_module
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.runners import run_ip_address_info


def main():
    run_module(IP_ADDRESS_INFO, run_ip_address_info)


if __name__ == '__main__':
    main()
