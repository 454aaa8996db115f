#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: ip_prefix
short_description: Allocate or release a subnet (child prefix) by name
description:
  - Gives O(name) a child prefix of O(prefix_length) in O(pool) and keeps it. Asking again returns the same prefix,
    unchanged.
  - Best fit, like Neutron's subnet pools. The smallest free block that fits is used, lowest address first, so the
    supernet does not fragment. No pool is ever enumerated, so a /64 out of a /32 costs what a /26 out of a /16 does.
  - The pool may bound requests with O(ipam.allocator.ip_pool#module:min_prefix_length),
    O(ipam.allocator.ip_pool#module:max_prefix_length) and O(ipam.allocator.ip_pool#module:default_prefix_length).
  - An allocated prefix can become an address pool with M(ipam.allocator.ip_pool) and its
    O(ipam.allocator.ip_pool#module:parent) option. Releasing the prefix then fails while that pool holds
    allocations, unless O(force=true).
  - In check mode nothing is written and the result is the prefix a real run would allocate. Later check-mode tasks
    and lookups of the same run see it, so a play that allocates a subnet and then addresses in it is predicted
    whole. The prediction ends with the run; see the collection's docs/check-mode.md.
version_added: 0.1.0
author:
  - ipam.allocator contributors (@ipam-allocator)
extends_documentation_fragment:
  - ipam.allocator.backend
  - ipam.allocator.backend.actiongroup
options:
  pool:
    description:
      - The supernet pool to allocate from (file backend, a pool name; remote backends, the prefix's CIDR).
    type: str
    required: true
  name:
    description:
      - The idempotency key of the allocation, for example a site or VLAN name. Required with O(state=present),
        unless O(names) is given.
      - The same rule as O(ipam.allocator.ip_address#module:name) (printable characters, no white space at either end,
        at most 200 characters).
    type: str
  names:
    description:
      - Many subnets in one task. Each item is a name, or a mapping with V(name) and the per-name options
        V(prefix_length), V(prefix) and V(description); the task's O(prefix_length) and O(description) apply to every
        item that does not set its own.
      - "Order: items that name their V(prefix) are served first, then the others take best-fit blocks one after the
        other in the order of the list. Names that already hold a prefix keep it: a rerun changes nothing."
      - "All or nothing, under one lock on the file backend: an item that cannot be served fails the task, naming it
        (V(names[2] 'lab': ...)), and nothing is changed. Check mode predicts the whole list."
      - With O(state=absent), releases every name in the list (O(force) applies to each).
      - Returns RV(allocations) instead of the single-name keys; RV(diff) (keyed by name) only with C(--diff).
      - Mutually exclusive with O(name) and O(prefix).
    type: list
    elements: raw
  prefix_length:
    description:
      - The length of the prefix to allocate, for example V(26). Defaults to the pool's
        O(ipam.allocator.ip_pool#module:default_prefix_length).
      - When O(name) already holds a prefix of another length, the task fails; a prefix moves only to a place the
        task names with O(prefix).
    type: int
  prefix:
    description:
      - Ask for this specific prefix, for example V(10.128.4.0/26). Fails, naming the holder, when it overlaps
        another allocation.
      - If O(name) already holds another prefix it moves to this one (it may overlap the one it leaves), keeping its
        O(description), as an address moves with M(ipam.allocator.ip_address). A prefix that a pool was made from
        (O(ipam.allocator.ip_pool#module:parent)) does not move; the task fails and names that pool.
      - With O(state=absent) and no O(name), release whoever holds this prefix.
    type: str
  description:
    description:
      - Free text stored with the allocation. Left as it is when not given; V("") clears it.
    type: str
  state:
    description:
      - V(present) allocates (or keeps) the prefix, V(absent) releases it.
    type: str
    choices: [present, absent]
    default: present
  force:
    description:
      - With O(state=absent), release the prefix even when a pool made from it holds allocations; that pool is removed.
    type: bool
    default: false
seealso:
  - module: ipam.allocator.ip_pool
  - plugin: ipam.allocator.next_prefix
    plugin_type: lookup
'''

EXAMPLES = r'''
- name: A supernet for sites, handing out /26 by default
  ipam.allocator.ip_pool:
    store: /srv/ipam/store.yml
    name: sites
    cidr: 10.128.0.0/16
    default_prefix_length: 26
    max_prefix_length: 28
  run_once: true

- name: The Berlin subnet
  ipam.allocator.ip_prefix:
    store: /srv/ipam/store.yml
    pool: sites
    name: berlin
  register: berlin
  run_once: true

- name: Make it a pool, with its first address as gateway
  ipam.allocator.ip_pool:
    store: /srv/ipam/store.yml
    name: berlin
    parent: sites
    cidr: "{{ berlin.prefix }}"
    gateway: "{{ berlin.gateway }}"
  run_once: true

- name: An address per host in it
  ipam.allocator.ip_address:
    store: /srv/ipam/store.yml
    pool: berlin
    name: "{{ inventory_hostname }}"

- name: A specific /24
  ipam.allocator.ip_prefix:
    store: /srv/ipam/store.yml
    pool: sites
    name: lab
    prefix: 10.128.200.0/24

- name: A /26 for each site, and a /24 for the lab, in one task
  ipam.allocator.ip_prefix:
    store: /srv/ipam/store.yml
    pool: sites
    prefix_length: 26
    names:
      - berlin
      - paris
      - name: lab
        prefix_length: 24
  run_once: true
  register: subnets

- name: Release a subnet and the pool made from it
  ipam.allocator.ip_prefix:
    store: /srv/ipam/store.yml
    pool: sites
    name: berlin
    state: absent
    force: true
'''

RETURN = r'''
prefix:
  description:
    - The allocated prefix (with O(state=absent), the released one, or V(null) when nothing was held).
    - In check mode nothing is written and this is what a real run would return. The prediction is passed on to the
      same run's later check-mode tasks and lookups, of every host, through the file
      C(ipam_allocator_predictions.jsonl) in the run's private temporary directory (the C(ansible-local-*) directory
      that ansible-core makes under its C(local_tmp) setting, E(ANSIBLE_LOCAL_TEMP), and deletes when the run ends).
      No later run sees it, whatever fact cache is configured.
  returned: success, without O(names)
  type: str
  sample: 10.128.4.0/26
network:
  description: The prefix's network address.
  returned: success, without O(names)
  type: str
  sample: 10.128.4.0
prefix_length:
  description: The prefix length.
  returned: success, without O(names)
  type: int
  sample: 26
gateway:
  description: The first usable address of the prefix, the usual gateway.
  returned: success, without O(names)
  type: str
  sample: 10.128.4.1
pool:
  description: The supernet pool, as the task named it.
  returned: success
  type: str
  sample: sites
name:
  description: The name that holds (or held) the prefix.
  returned: success, without O(names)
  type: str
  sample: berlin
description:
  description: The allocation's description, or V(null).
  returned: success, without O(names)
  type: str
  sample: Berlin office
allocations:
  description:
    - With O(names), one entry per name, keyed by name, in the order of the list. Each entry holds what a single-name
      task returns at its top level, plus C(changed), whether that name changed. With O(names) the single-name keys
      are not returned at the top level; RV(pool) is.
    - In check mode nothing is written and this is what a real run would return. The prediction is passed on to the
      same run's later check-mode tasks and lookups, of every host, through the file
      C(ipam_allocator_predictions.jsonl) in the run's private temporary directory (the C(ansible-local-*) directory
      that ansible-core makes under its C(local_tmp) setting, E(ANSIBLE_LOCAL_TEMP), and deletes when the run ends).
      No later run sees it, whatever fact cache is configured.
  returned: when O(names) is given
  type: dict
  sample:
    berlin: {prefix: 10.128.4.0/26, network: 10.128.4.0, prefix_length: 26, gateway: 10.128.4.1, pool: sites,
             name: berlin, description: null, changed: true}
  contains:
    prefix:
      description: The allocated (or released) prefix, or V(null) when nothing was held.
      type: str
      returned: success
      sample: 10.128.4.0/26
    network:
      description: The prefix's network address.
      type: str
      returned: success
      sample: 10.128.4.0
    prefix_length:
      description: The prefix length.
      type: int
      returned: success
      sample: 26
    gateway:
      description: The first usable address of the prefix.
      type: str
      returned: success
      sample: 10.128.4.1
    pool:
      description: The supernet pool.
      type: str
      returned: success
      sample: sites
    name:
      description: The name (the same as the key).
      type: str
      returned: success
      sample: berlin
    description:
      description: The allocation's description, or V(null).
      type: str
      returned: success
    changed:
      description: Whether this name's allocation changed.
      type: bool
      returned: success
      sample: true
diff:
  description:
    - The allocation record (the keys RV(prefix), RV(network), RV(prefix_length), RV(gateway), RV(pool), RV(name),
      RV(description)) before and after the task.
    - With O(names), RV(diff.before) and RV(diff.after) are keyed by name and hold only the names that change; they
      are returned only with C(--diff).
  returned: success
  type: dict
  contains:
    before:
      description: The record before the task; V({}) before a new allocation.
      type: dict
      returned: success
      sample: {}
    after:
      description: The record after the task; V({}) after a release.
      type: dict
      returned: success
      sample: {prefix: 10.128.4.0/26, network: 10.128.4.0, prefix_length: 26, gateway: 10.128.4.1, pool: sites,
               name: berlin, description: null}
'''

from ansible_collections.ipam.allocator.plugins.module_utils._ipam.argspec import IP_PREFIX
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.module import run_module
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.runners import run_ip_prefix


def main():
    run_module(IP_PREFIX, run_ip_prefix)


if __name__ == '__main__':
    main()
