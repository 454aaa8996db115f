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
  description: The matching allocations, by pool then address.
  returned: always
  type: list
  elements: dict
  contains:
    pool:
      description: Pool name.
      type: str
      returned: always
    name:
      description: The name that holds the address.
      type: str
      returned: always
    address:
      description: The address.
      type: str
      returned: always
    cidr:
      description: The address with the pool's prefix length.
      type: str
      returned: always
    prefix_length:
      description: The pool's prefix length.
      type: int
      returned: always
    gateway:
      description: The pool's gateway.
      type: str
      returned: always
    description:
      description: The allocation's description.
      type: str
      returned: always
    dns_name:
      description: The allocation's DNS name.
      type: str
      returned: always
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
  description: The matching pools with their counters.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Pool name.
      type: str
      returned: always
    cidr:
      description: The pool's network.
      type: str
      returned: always
    size:
      description: How many addresses the pool can give out.
      type: int
      returned: always
    used:
      description: How many are allocated.
      type: int
      returned: always
    free:
      description: How many are left.
      type: int
      returned: always
'''

from ansible_collections.ipam.allocator.plugins.module_utils._ipam.argspec import IP_ADDRESS_INFO
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.module import run_module
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.tasks import run_ip_address_info


def main():
    run_module(IP_ADDRESS_INFO, run_ip_address_info)


if __name__ == '__main__':
    main()
