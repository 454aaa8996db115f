# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: next_ip
short_description: Allocate the next free IP address, or peek at it
version_added: 0.1.0
author:
  - ipam.allocator contributors (@ipam-allocator)
description:
  - With O(name), allocates an address for that name in each pool given as a term (or returns the address the name
    already holds) and persists it. A rerun returns the same address.
  - With O(names), allocates for every name of the list in one evaluation (on the file backend under one lock, in
    one read and one write) and returns, for each pool, a mapping of name to address. A rerun returns the same mapping.
  - Without O(name) or O(names), returns the next free address (O(count) addresses) of each pool and reserves nothing.
  - Runs on the controller, in the worker process of each host; the store's lock makes it safe with any number of
    forks.
  - In check mode (C(ansible_check_mode)) it writes nothing and returns what a real run would allocate.
extends_documentation_fragment:
  - ipam.allocator.backend
  - ipam.allocator.backend.plugins
options:
  _terms:
    description:
      - One or more pools (file backend, pool names; remote backends, prefix CIDRs). One result per pool.
    required: true
    type: list
    elements: str
  name:
    description:
      - Allocate for this name (the idempotency key, usually C(inventory_hostname)) instead of peeking.
    type: str
  names:
    description:
      - Allocate for every name of this list at once, for example V(groups['web']), and return one mapping of name to
        address per pool. Each host of a play may evaluate the same lookup; the first allocates, the others find every
        name held and change nothing.
      - New names take the lowest free addresses in the order of the list; names that already hold an address keep
        it. All or nothing, as O(ipam.allocator.ip_address#module:names) (a name listed twice, an empty list or a pool
        with too few free addresses fails, naming the item, and nothing is written).
      - O(description) and O(dns_name) apply to every name. Not with O(name), O(count) or O(mac).
    type: list
    elements: str
  count:
    description:
      - Without O(name), how many free addresses to return from each pool.
    type: int
    default: 1
  format:
    description:
      - V(address) returns V(10.0.0.5), V(cidr) returns V(10.0.0.5/24).
    type: str
    choices: [address, cidr]
    default: address
  mac:
    description:
      - With O(name), in an IPv6 /64 pool, allocate the modified EUI-64 address of this MAC.
    type: str
  description:
    description:
      - With O(name), free text stored with a new allocation.
    type: str
  dns_name:
    description:
      - With O(name), a DNS name stored with a new allocation.
    type: str
notes:
  - In check mode a new name's prediction is passed on to the run's later check-mode tasks and lookups, of every
    host, as a module's is; several hosts allocating at once are predicted distinct addresses, the ones the real run
    takes (which host gets which is decided by the order they reach the store's lock, in both runs).
seealso:
  - module: ipam.allocator.ip_address
'''

EXAMPLES = r'''
- name: An address per host, allocated on first use and stable afterwards
  ansible.builtin.set_fact:
    lab_ip: "{{ lookup('ipam.allocator.next_ip', 'lab', name=inventory_hostname, store='/srv/ipam/store.yml') }}"

- name: The store can also come from ansible.cfg ([ipam_allocator] store=...) or IPAM_ALLOCATOR_STORE
  ansible.builtin.debug:
    msg: "{{ lookup('ipam.allocator.next_ip', 'lab', name=inventory_hostname, format='cidr') }}"

- name: Peek at the next three free addresses without reserving them
  ansible.builtin.debug:
    msg: "{{ query('ipam.allocator.next_ip', 'lab', count=3) }}"

- name: Every web server's address, in one evaluation; each host picks its own
  ansible.builtin.set_fact:
    web_ip: "{{ lookup('ipam.allocator.next_ip', 'lab', names=groups['web'])[inventory_hostname] }}"

- name: One address in each of two pools
  ansible.builtin.set_fact:
    addresses: "{{ query('ipam.allocator.next_ip', 'lab', 'lab6', name=inventory_hostname) }}"

- name: In a template
  ansible.builtin.copy:
    dest: /etc/motd
    content: "This is {{ inventory_hostname }} at {{ lookup('ipam.allocator.next_ip', 'lab', name=inventory_hostname) }}\n"
    mode: "0644"
'''

RETURN = r'''
_raw:
  description:
    - One address (or V(format=cidr), address with prefix length) per pool, or O(count) per pool without O(name).
    - With O(names), one mapping of name to address (or address with prefix length) per pool.
  type: list
  elements: raw
'''

from ansible.errors import AnsibleLookupError

from ansible_collections.ipam.allocator.plugins.module_utils._ipam.core.bulk import AddressRequest, requests_from_items
from ansible_collections.ipam.allocator.plugins.plugin_utils._lookup import IpamLookup


class LookupModule(IpamLookup):

    def lookup_terms(self, backend, terms, check_mode):
        name = self.get_option('name')
        count = self.get_option('count')
        key = self.get_option('format')
        names = self.get_option('names')
        if names is not None:
            self.refuse_with_names(name=name is not None, mac=self.get_option('mac') is not None, count=count != 1)
            requests = requests_from_items(names, AddressRequest, defaults={
                'description': self.get_option('description'), 'dns_name': self.get_option('dns_name')})
            return [{name: outcome.after[key] for name, outcome in backend.bulk_allocate(
                pool, requests, check_mode=check_mode).outcomes.items()} for pool in terms]
        if name is None:
            if self.get_option('mac') is not None:
                raise AnsibleLookupError('next_ip: "mac" needs "name" (the allocation it is for)')
            if count < 1:
                raise AnsibleLookupError('next_ip: count must be 1 or more, got %d' % count)
            return [view[key] for pool in terms for view in backend.peek(pool, count)]
        if count != 1:
            raise AnsibleLookupError('next_ip: "count" cannot be used with "name": a name holds one address per pool')
        results = []
        for pool in terms:
            outcome = backend.allocate(pool, str(name), mac=self.get_option('mac'),
                                       description=self.get_option('description'),
                                       dns_name=self.get_option('dns_name'), check_mode=check_mode)
            results.append(outcome.after[key])
        return results
