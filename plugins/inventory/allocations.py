# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: allocations
short_description: Hosts and groups from the allocations of an IPAM backend
version_added: 0.1.0
author:
  - ipam.allocator contributors (@ipam-allocator)
description:
  - Builds an inventory from the address allocations of any ipam.allocator backend (a file store on the controller,
    NetBox, Nautobot, or a third-party backend).
  - Each allocation name's part before the first C(/) is a host, so V(web01), V(web01/eth0) and V(web01/eth1) are
    all host V(web01).
  - C(ansible_host) of a host is the address of its first allocation in name order (then pool order).
  - Every host is in the group C(ipam_<pool>) of each pool it holds an address in, with every character of the pool
    name that is not a letter, digit or underscore replaced by C(_) (pool V(10.0.0.0/24) gives group
    V(ipam_10_0_0_0_24)).
  - Every host has the variable C(ipam_allocations), the list of its allocation records in name order, each with
    C(pool), C(name), C(address), C(cidr), C(prefix_length), C(gateway), C(description) and C(dns_name).
  - Strings that come from the backend are marked unsafe, so they are never templated.
  - The backend is read once per inventory parse (one listing of all allocations). With O(cache) enabled,
    later parses read the cache instead.
  - The source file name must end in C(ipam.yml) or C(ipam.yaml).
extends_documentation_fragment:
  - ipam.allocator.backend
  - ipam.allocator.backend.plugins
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
options:
  plugin:
    description:
      - The name of this plugin. It must be V(ipam.allocator.allocations) for the source to be used.
    type: str
    required: true
    choices: [ipam.allocator.allocations]
  pools:
    description:
      - Only allocations of these pools become hosts (file backend, pool names; remote backends, prefix CIDRs).
      - Default is every pool.
    type: list
    elements: str
    default: []
notes:
  - A missing store is an error (a typo in O(store) would otherwise give an empty inventory); create it with
    M(ipam.allocator.ip_pool) first.
  - Errors of the backend (unreadable store, server down, bad token) fail the parse with a message that says what is
    wrong. Like every inventory plugin, Ansible shows that as a warning and goes on without this source, unless
    C(inventory_unparsed_failed) / C(inventory_any_unparsed_is_failed) are set in C(ansible.cfg).
  - A hand-edited file store that a reader could take two ways (a repeated key, a YAML alias) fails the parse,
    naming the line. Two names on one address in a pool are both read (two hosts may then share an C(ansible_host)),
    and the parse warns, naming the address and both names.
  - A remote backend is read with paged requests, never one request per host.
seealso:
  - module: ipam.allocator.ip_address
  - module: ipam.allocator.ip_address_info
'''

EXAMPLES = r'''
# lab.ipam.yml: every allocation of the file store becomes a host
plugin: ipam.allocator.allocations
store: /srv/ipam/store.yml

---
# servers.ipam.yml: only two pools, with groups and variables built from the records
plugin: ipam.allocator.allocations
store: /srv/ipam/store.sqlite
pools:
  - servers
  - storage
compose:
  ansible_user: "'admin'"
  dns_names: ipam_allocations | map(attribute='dns_name') | select | list
groups:
  multihomed: ipam_allocations | length > 1
keyed_groups:
  - key: ipam_allocations | map(attribute='pool') | list
    prefix: pool

---
# netbox.ipam.yml: the same from NetBox, cached for an hour (the token comes from IPAM_ALLOCATOR_TOKEN)
plugin: ipam.allocator.allocations
backend: netbox
url: https://netbox.example.com
pools:
  - 10.20.0.0/24
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: /var/cache/ansible/inventory
cache_timeout: 3600
'''

import re

from ansible.plugins.inventory import Cacheable, Constructable
from ansible.utils.unsafe_proxy import AnsibleUnsafeText, wrap_var

from ansible_collections.ipam.allocator.plugins.plugin_utils._core_internals import inventory_data
from ansible_collections.ipam.allocator.plugins.plugin_utils._inventory import IpamInventory

SOURCE_SUFFIXES = ('ipam.yml', 'ipam.yaml')
GROUP_PREFIX = 'ipam_'
_NOT_WORD = re.compile(r'\W')

# Before ansible-core 2.19 a plain string in inventory is a template: wrap_var() marks it unsafe.
# From 2.19 on, every string an inventory plugin sets is untrusted (never templated) unless it is
# tagged trusted, and wrap_var() only strips such tags from a deep copy; strings from the store carry
# none, so there it is needed only for data a cache plugin hands back (which might tag them).
_WRAP_ALWAYS = isinstance(wrap_var(''), AnsibleUnsafeText)


def group_name(pool):
    """``ipam_<pool>`` with every non-word character of the pool name as ``_``."""
    return GROUP_PREFIX + _NOT_WORD.sub('_', pool)


def host_name(allocation_name):
    """The host an allocation belongs to: its name up to the first ``/``."""
    return allocation_name.split('/', 1)[0]


def hosts_from(records, pools=None):
    """Group record views by host: ``{host: [records in name order]}``, hosts in name order.

    ``pools``: keep only records of these pools (all when empty).  Records
    without a name, or whose name starts with ``/``, belong to no host and are
    returned separately so the caller can report them.
    """
    wanted = set(pools or ())
    hosts = {}
    skipped = []
    for record in sorted(records, key=_order):
        if wanted and record.get('pool') not in wanted:
            continue
        name = record.get('name')
        host = host_name(name) if isinstance(name, str) else ''
        if not host.strip():
            skipped.append(record)
            continue
        hosts.setdefault(host, []).append(record)
    return hosts, skipped


def _order(record):
    return (str(record.get('name') or ''), str(record.get('pool') or ''), str(record.get('address') or ''))


class InventoryModule(IpamInventory, Constructable, Cacheable):

    NAME = 'ipam.allocator.allocations'

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(SOURCE_SUFFIXES)

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache=cache)
        self._read_config_data(path)

        cache_key = self.get_cache_key(path)
        use_cache = self.get_option('cache')
        records = None
        if use_cache and cache:
            try:
                records = self._cache[cache_key]
            except KeyError:
                records = None
        if records is not None:
            records = wrap_var(list(records))
        else:
            records = self._read_backend(path)
            if use_cache:
                self._cache[cache_key] = records
            if _WRAP_ALWAYS:
                records = wrap_var(records)

        self._populate(records)

    # -- the one read of the backend ------------------------------------------------

    def _read_backend(self, path):
        with self.opened_backend(path) as backend:
            # Plain dicts of plain values: what the cache stores and what the next parse reads back.
            return [dict(record) for record in backend.allocations()]

    # -- hosts, groups, variables ------------------------------------------------------

    def _populate(self, records):
        pools = [str(pool) for pool in self.get_option('pools') or ()]
        hosts, skipped = hosts_from(records, pools)
        for record in skipped:
            self.display.warning('ipam.allocator.allocations: allocation %r of pool %r has no host part '
                                 '(the name before the first "/"); it is not in the inventory'
                                 % (record.get('name'), record.get('pool')))
        if pools:
            seen = {record['pool'] for held in hosts.values() for record in held}
            for pool in pools:
                if pool not in seen:
                    self.display.warning('ipam.allocator.allocations: pool %r in "pools" has no allocations '
                                         '(check its name)' % pool)

        compose = self.get_option('compose')
        groups = self.get_option('groups')
        keyed_groups = self.get_option('keyed_groups')
        strict = self.get_option('strict')
        constructed = bool(compose or groups or keyed_groups)
        # ansible-core 2.19 passes each value an inventory plugin sets through a visitor that copies every string
        # to tag it with its origin: two thirds of the parse of a 10,000-allocation store. These values are plain
        # data from the backend and stay untrusted (never templated) either way, so they are set on the inventory
        # data itself; constructed variables and groups below still take ansible-core's path.
        inventory = inventory_data(self.inventory)   # self.inventory itself where ansible-core wraps it no more
        made_groups = {}

        for host, held in hosts.items():
            host = inventory.add_host(host)
            inventory.set_variable(host, 'ansible_host', held[0].get('address'))
            inventory.set_variable(host, 'ipam_allocations', held)
            for record in held:
                pool = record.get('pool')
                group = made_groups.get(pool)
                if group is None:
                    group = made_groups[pool] = inventory.add_group(group_name(str(pool)))
                inventory.add_child(group, host)
            if constructed:
                hostvars = inventory.get_host(host).get_vars()
                self._set_composite_vars(compose, hostvars, host, strict=strict)
                self._add_host_to_composed_groups(groups, hostvars, host, strict=strict)
                self._add_host_to_keyed_groups(keyed_groups, hostvars, host, strict=strict)
