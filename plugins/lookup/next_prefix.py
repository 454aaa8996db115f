# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: next_prefix
short_description: Allocate the next free subnet, or peek at it
version_added: 0.1.0
author:
  - ipam.allocator contributors (@ipam-allocator)
description:
  - With O(name), allocates a child prefix of O(prefix_length) for that name in each pool given as a term (or returns
    the prefix the name already holds) and persists it. Best fit, lowest address first.
  - With O(names), allocates a prefix for every name of the list in one evaluation (on the file backend under one
    lock) and returns, for each pool, a mapping of name to prefix. A rerun returns the same mapping.
  - Without O(name) or O(names), returns the next free prefix (O(count) prefixes) of each pool and reserves nothing.
  - In check mode (C(ansible_check_mode)) it writes nothing and returns what a real run would allocate.
extends_documentation_fragment:
  - ipam.allocator.backend
  - ipam.allocator.backend.plugins
options:
  _terms:
    description:
      - One or more supernet pools. One result per pool.
    required: true
    type: list
    elements: str
  name:
    description:
      - Allocate for this name (the idempotency key) instead of peeking.
    type: str
  names:
    description:
      - Allocate for every name of this list at once and return one mapping of name to prefix per pool. New names take
        best-fit blocks one after the other in the order of the list; names that already hold a prefix keep it. All or
        nothing, as O(ipam.allocator.ip_prefix#module:names).
      - O(prefix_length) and O(description) apply to every name. Not with O(name) or O(count).
    type: list
    elements: str
  prefix_length:
    description:
      - Length of the prefix, for example V(26). Defaults to the pool's default prefix length.
    type: int
  count:
    description:
      - Without O(name), how many free prefixes to return from each pool.
    type: int
    default: 1
  description:
    description:
      - With O(name), free text stored with a new allocation.
    type: str
seealso:
  - module: ipam.allocator.ip_prefix
  - plugin: ipam.allocator.next_ip
    plugin_type: lookup
'''

EXAMPLES = r'''
- name: A /26 for the Berlin site, allocated once and stable afterwards
  ansible.builtin.set_fact:
    berlin_subnet: "{{ lookup('ipam.allocator.next_prefix', 'sites', name='berlin', prefix_length=26, store='/srv/ipam/store.yml') }}"

- name: A /26 for each of three sites, in one evaluation
  ansible.builtin.set_fact:
    site_subnets: "{{ lookup('ipam.allocator.next_prefix', 'sites', names=['berlin', 'paris', 'rome'], prefix_length=26) }}"

- name: Which /24 would come next?
  ansible.builtin.debug:
    msg: "{{ lookup('ipam.allocator.next_prefix', 'sites', prefix_length=24, store='/srv/ipam/store.yml') }}"
'''

RETURN = r'''
_raw:
  description:
    - One prefix (V(10.128.4.0/26)) per pool, or O(count) per pool without O(name).
    - With O(names), one mapping of name to prefix per pool.
  type: list
  elements: raw
'''

from ansible.errors import AnsibleLookupError

from ansible_collections.ipam.allocator.plugins.module_utils._ipam.core.bulk import PrefixRequest, requests_from_items
from ansible_collections.ipam.allocator.plugins.plugin_utils._lookup import IpamLookup


class LookupModule(IpamLookup):

    def lookup_terms(self, backend, terms, check_mode):
        name = self.get_option('name')
        count = self.get_option('count')
        prefix_length = self.get_option('prefix_length')
        names = self.get_option('names')
        if names is not None:
            self.refuse_with_names(name=name is not None, count=count != 1)
            requests = requests_from_items(names, PrefixRequest, defaults={
                'prefix_length': prefix_length, 'description': self.get_option('description')})
            return [{name: outcome.after['prefix'] for name, outcome in backend.bulk_allocate_prefix(
                pool, requests, check_mode=check_mode).outcomes.items()} for pool in terms]
        if name is None:
            if count < 1:
                raise AnsibleLookupError('next_prefix: count must be 1 or more, got %d' % count)
            return [view['prefix'] for pool in terms for view in backend.peek_prefix(pool, prefix_length, count)]
        if count != 1:
            raise AnsibleLookupError('next_prefix: "count" cannot be used with "name": a name holds one prefix per pool')
        return [backend.allocate_prefix(pool, str(name), prefix_length=prefix_length,
                                        description=self.get_option('description'), check_mode=check_mode).after['prefix']
                for pool in terms]
