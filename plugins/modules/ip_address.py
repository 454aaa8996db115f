#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: ip_address
short_description: Allocate or release an IP address by name
description:
  - Gives O(name) an address in O(pool) and keeps it there. Asking again returns the same address, unchanged.
  - Without O(address) or O(mac) the name gets the lowest free address of the pool's ranges (the whole prefix when the
    pool has none), never the network or IPv4 broadcast address (except in /31, /32, /127 and /128 pools),
    the gateway or a reserved entry.
  - With O(state=absent) the name's address (or the holder of O(address)) is released. Releasing what is not held is
    not an error.
  - Allocation happens on the controller, whatever host the task targets; see O(store).
  - No two names ever hold the same address in a pool, whatever the number of forks or processes.
  - With O(names), one task allocates (or releases) many names, for example a whole group from a C(run_once) task.
    It returns every record in RV(allocations), keyed by name. See O(names) for the order, all-or-nothing and check mode.
  - In check mode nothing is written and the result is the address a real run would allocate. Later check-mode
    tasks and lookups of the same run, of every host, see it; several hosts allocating new names at once are
    predicted the addresses the real run takes, and which host gets which is decided by the order they reach the
    store's lock, in check mode as in the real run. The prediction ends with the run.
version_added: 0.1.0
author:
  - ipam.allocator contributors (@ipam-allocator)
extends_documentation_fragment:
  - ipam.allocator.backend
  - ipam.allocator.backend.actiongroup
options:
  pool:
    description:
      - The pool to allocate from.
      - File backend, the name of a pool made by M(ipam.allocator.ip_pool).
      - Remote backends, the prefix's CIDR, for example V(10.0.0.0/24).
    type: str
    required: true
  name:
    description:
      - The idempotency key of the allocation, for example V(web01) or V(web01/eth0). A name holds at most one
        address per pool.
      - A name is a string of printable characters (no control characters, line breaks or lone surrogates), without
        white space at either end, of at most 200 characters. Anything else, a list included, is refused.
      - Required with O(state=present), unless O(names) is given.
    type: str
  names:
    description:
      - Many names in one task, for example V({{ groups['web'] }}) or V({{ ansible_play_hosts }}). Each item is a name,
        or a mapping with V(name) and the per-name options V(address), V(mac), V(description) and V(dns_name). The
        task's own O(description) and O(dns_name) apply to every item that does not set its own.
      - "Order: items that name their address (V(address) or V(mac)) are served first; then the names that hold no
        address yet take the lowest free addresses in the order of the list. Names that already hold an address keep it,
        so a rerun changes nothing and adding one name to the list allocates only that one. Sort the list
        (V({{ groups['web'] | sort }})) if the order it comes in may change."
      - "All or nothing: the whole list is planned before anything is written, and on the file backend written under one
        lock, in one read and one write. An item that cannot be served (the pool has fewer free addresses than new names,
        an address held by another name, an invalid name) fails the task with a message that names it
        (V(names[3] 'web04': ...)), and nothing is changed. An empty list, an item listed twice, or an unknown key in an
        item is refused the same way."
      - In check mode the whole list is predicted exactly, name by name, and the prediction is passed on to the run's
        later check-mode tasks and lookups like a single name's.
      - With O(state=absent), releases every name in the list (an item may add the V(address) it is expected to hold).
      - Returns RV(allocations) instead of the single-name keys. RV(diff) holds, keyed by name, the records before and
        after of the names that change, and is returned only with C(--diff) (its size would slow down a large task).
      - Backends without a bulk operation of their own (third-party ones) serve the list one name at a time; see the
        collection's docs/backends.md.
      - Mutually exclusive with O(name), O(address) and O(mac).
    type: list
    elements: raw
  address:
    description:
      - Ask for this specific address (V(10.0.0.5), or V(10.0.0.5/24) with the pool's prefix length).
      - If O(name) already holds another address it moves to this one, keeping its O(description) and O(dns_name)
        unless the task gives new ones. An allocation moves only to an address the task names; M(ipam.allocator.ip_prefix)
        follows the same rule with its O(ipam.allocator.ip_prefix#module:prefix) option.
      - Fails, naming the holder, when another name holds it; fails when it is outside the pool, reserved or the gateway.
      - With O(state=absent) and no O(name), release whoever holds this address.
    type: str
  mac:
    description:
      - In an IPv6 /64 pool, ask for the modified EUI-64 address of this MAC address (RFC 4291, appendix A).
      - The same MAC always yields the same address.
    type: str
  description:
    description:
      - Free text stored with the allocation. Left as it is when not given; V("") clears it.
    type: str
  dns_name:
    description:
      - A DNS name stored with the allocation, made of labels of letters, digits and hyphens (RFC 1123), 253 characters
        at most. Left as it is when not given; V("") clears it.
    type: str
  state:
    description:
      - V(present) allocates (or keeps) the address, V(absent) releases it.
    type: str
    choices: [present, absent]
    default: present
seealso:
  - module: ipam.allocator.ip_pool
  - module: ipam.allocator.ip_address_info
  - plugin: ipam.allocator.next_ip
    plugin_type: lookup
'''

EXAMPLES = r'''
- name: Give each host an address from the lab pool (runs on the controller)
  ipam.allocator.ip_address:
    store: /srv/ipam/store.yml
    pool: lab
    name: "{{ inventory_hostname }}"
  register: allocation

- name: Use it
  ansible.builtin.debug:
    msg: "{{ inventory_hostname }} is {{ allocation.cidr }} via {{ allocation.gateway }}"

- name: Set the backend once for a whole play
  hosts: all
  gather_facts: false
  module_defaults:
    group/ipam.allocator.all:
      store: /srv/ipam/store.yml
  tasks:
    - name: One address per interface
      ipam.allocator.ip_address:
        pool: lab
        name: "{{ inventory_hostname }}/eth0"
        dns_name: "{{ inventory_hostname }}.lab.example.com"

- name: Pin a specific address
  ipam.allocator.ip_address:
    store: /srv/ipam/store.yml
    pool: lab
    name: router
    address: 10.0.0.254

- name: EUI-64 address from the host's MAC in an IPv6 /64 pool
  ipam.allocator.ip_address:
    store: /srv/ipam/store.yml
    pool: lab6
    name: "{{ inventory_hostname }}"
    mac: "{{ ansible_facts.default_ipv6.macaddress | default('52:54:00:12:34:56') }}"

- name: An address for every host of the play, in one task (one lock, one write), in the order of the list
  ipam.allocator.ip_address:
    store: /srv/ipam/store.yml
    pool: lab
    names: "{{ ansible_play_hosts }}"
  run_once: true
  register: lab_addresses

- name: Each host takes its own
  ansible.builtin.set_fact:
    lab_ip: "{{ lab_addresses.allocations[inventory_hostname].address }}"

- name: Per-name options, and a pinned address that no other item of the list can take
  ipam.allocator.ip_address:
    store: /srv/ipam/store.yml
    pool: lab
    description: web tier
    names:
      - web01
      - name: web02
        dns_name: web02.lab.example.com
      - name: vip
        address: 10.0.0.200
  run_once: true

- name: Release a whole group
  ipam.allocator.ip_address:
    store: /srv/ipam/store.yml
    pool: lab
    names: "{{ groups['retired'] }}"
    state: absent
  run_once: true

- name: Release the host's address when it is decommissioned
  ipam.allocator.ip_address:
    store: /srv/ipam/store.yml
    pool: lab
    name: "{{ inventory_hostname }}"
    state: absent
'''

RETURN = r'''
address:
  description:
    - The allocated address (with O(state=absent), the released one, or V(null) when nothing was held).
    - In check mode nothing is written and this is what a real run would return. The prediction is passed on to the
      same run's later check-mode tasks and lookups, of every host, through the file
      C(ipam_allocator_predictions.jsonl) in the run's private temporary directory (the C(ansible-local-*) directory
      that ansible-core makes under its C(local_tmp) setting, E(ANSIBLE_LOCAL_TEMP), and deletes when the run ends).
      No later run sees it, whatever fact cache is configured.
  returned: success, without O(names)
  type: str
  sample: 10.0.0.5
cidr:
  description: The address with the pool's prefix length.
  returned: success, without O(names)
  type: str
  sample: 10.0.0.5/24
prefix_length:
  description: The pool's prefix length.
  returned: success, without O(names)
  type: int
  sample: 24
gateway:
  description: The pool's gateway, or V(null) when it has none.
  returned: success, without O(names)
  type: str
  sample: 10.0.0.1
pool:
  description: The pool, as the task named it.
  returned: success
  type: str
  sample: lab
name:
  description: The name that holds (or held) the address.
  returned: success, without O(names)
  type: str
  sample: web01
description:
  description: The allocation's description, or V(null).
  returned: success, without O(names)
  type: str
  sample: Web server
dns_name:
  description: The allocation's DNS name, or V(null).
  returned: success, without O(names)
  type: str
  sample: web01.lab.example.com
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
    web01: {address: 10.0.0.2, cidr: 10.0.0.2/24, prefix_length: 24, gateway: 10.0.0.1, pool: lab, name: web01,
            description: null, dns_name: null, changed: true}
  contains:
    address:
      description: The allocated (or released) address, or V(null) when nothing was held.
      type: str
      returned: success
      sample: 10.0.0.2
    cidr:
      description: The address with the pool's prefix length.
      type: str
      returned: success
      sample: 10.0.0.2/24
    prefix_length:
      description: The pool's prefix length.
      type: int
      returned: success
      sample: 24
    gateway:
      description: The pool's gateway, or V(null).
      type: str
      returned: success
      sample: 10.0.0.1
    pool:
      description: The pool.
      type: str
      returned: success
      sample: lab
    name:
      description: The name (the same as the key).
      type: str
      returned: success
      sample: web01
    description:
      description: The allocation's description, or V(null).
      type: str
      returned: success
    dns_name:
      description: The allocation's DNS name, or V(null).
      type: str
      returned: success
    changed:
      description: Whether this name's allocation changed.
      type: bool
      returned: success
      sample: true
diff:
  description:
    - The allocation record (the keys RV(address), RV(cidr), RV(prefix_length), RV(gateway), RV(pool), RV(name),
      RV(description), RV(dns_name)) before and after the task.
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
      sample: {address: 10.0.0.5, cidr: 10.0.0.5/24, prefix_length: 24, gateway: 10.0.0.1, pool: lab, name: web01,
               description: null, dns_name: null}
'''

from ansible_collections.ipam.allocator.plugins.module_utils._ipam.argspec import IP_ADDRESS
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.module import run_module
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.runners import run_ip_address


def main():
    run_module(IP_ADDRESS, run_ip_address)


if __name__ == '__main__':
    main()
