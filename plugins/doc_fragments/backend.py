# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # The backend options, documented once for every module, lookup and inventory plugin.
    DOCUMENTATION = r'''
options:
  backend:
    description:
      - Where pools and allocations live.
      - V(file) is a store file on the controller (see O(store)).
      - V(netbox) and V(nautobot) are remote IPAM servers (see O(url) and O(token)).
      - A third-party backend registered in the Python entry-point group C(ipam_allocator.backends) is chosen by its name.
    type: str
    default: file
  store:
    description:
      - File backend only. Path of the store on the controller; its extension picks the format.
      - C(.yml) or C(.yaml) is YAML (human-editable, one allocation per line), C(.json) is JSON,
        C(.sqlite) or C(.db) is SQLite (for large stores).
      - A YAML or JSON store edited by hand is read exactly or refused. A repeated key, a YAML alias or merge key, or
        values nested too deeply fail every task, lookup and inventory parse, naming the line. Two names on one
        address in a pool fail whatever may change the store (a rerun included); what only reads lists both and warns.
      - Comments in a YAML store are not kept, as each change rewrites the file (see the collection's
        C(docs/file-store.md)).
      - Created on the first write. Its directory must exist.
      - Modules also read the E(IPAM_ALLOCATOR_STORE) environment variable of the controller.
    type: path
  url:
    description:
      - Remote backends only. Base URL of the IPAM server, for example V(https://netbox.example.com).
      - Falls back to E(IPAM_ALLOCATOR_URL), then E(NETBOX_URL) or E(NAUTOBOT_URL), on the controller.
    type: str
  token:
    description:
      - Remote backends only. API token. Never printed, logged or shown in a diff.
      - Falls back to E(IPAM_ALLOCATOR_TOKEN), then E(NETBOX_TOKEN) or E(NAUTOBOT_TOKEN), on the controller.
    type: str
  validate_certs:
    description:
      - Remote backends only. Verify the server's TLS certificate.
    type: bool
    default: true
  ca_path:
    description:
      - Remote backends only. A CA bundle to verify the server's certificate with, for a private CA.
    type: path
  timeout:
    description:
      - Remote backends only. Seconds to wait for each HTTP request.
    type: float
    default: 30
  lock_timeout:
    description:
      - File backend only. Seconds to wait for the store's lock before failing.
      - The error names the process that holds the lock.
    type: float
    default: 60
  vrf:
    description:
      - NetBox only. The name of the VRF of the prefixes given as pools, when a CIDR is not unique.
        Default is the global table.
    type: str
  namespace:
    description:
      - Nautobot only. The namespace of the prefixes given as pools. Default is V(Global).
    type: str
  key_field:
    description:
      - Remote backends only. A custom field (text, on IP addresses and prefixes) that holds each allocation's name.
      - Without it the name is kept in the object's description.
      - Either way every object this collection creates carries the tag C(ipam-allocator), and only such objects are
        ever released.
    type: str
'''

    # Sources that only controller-side plugins (lookups, inventory) read.
    PLUGINS = r'''
options:
  backend:
    env:
      - name: IPAM_ALLOCATOR_BACKEND
    ini:
      - section: ipam_allocator
        key: backend
  store:
    env:
      - name: IPAM_ALLOCATOR_STORE
    ini:
      - section: ipam_allocator
        key: store
  url:
    env:
      - name: IPAM_ALLOCATOR_URL
    ini:
      - section: ipam_allocator
        key: url
  token:
    env:
      - name: IPAM_ALLOCATOR_TOKEN
  validate_certs:
    env:
      - name: IPAM_ALLOCATOR_VALIDATE_CERTS
    ini:
      - section: ipam_allocator
        key: validate_certs
  ca_path:
    env:
      - name: IPAM_ALLOCATOR_CA_PATH
    ini:
      - section: ipam_allocator
        key: ca_path
  timeout:
    env:
      - name: IPAM_ALLOCATOR_TIMEOUT
    ini:
      - section: ipam_allocator
        key: timeout
  lock_timeout:
    env:
      - name: IPAM_ALLOCATOR_LOCK_TIMEOUT
    ini:
      - section: ipam_allocator
        key: lock_timeout
  vrf:
    env:
      - name: IPAM_ALLOCATOR_VRF
    ini:
      - section: ipam_allocator
        key: vrf
  namespace:
    env:
      - name: IPAM_ALLOCATOR_NAMESPACE
    ini:
      - section: ipam_allocator
        key: namespace
  key_field:
    env:
      - name: IPAM_ALLOCATOR_KEY_FIELD
    ini:
      - section: ipam_allocator
        key: key_field
'''

    # Shared attributes of the modules, which run on the controller through their action plugin.
    ACTIONGROUP = r'''
attributes:
  action:
    description: Runs on the controller through an action plugin of the same name; nothing is sent to the target host.
    support: full
  async:
    description: Not supported.
    support: none
  check_mode:
    description: Changes nothing and returns exactly what a real run would return.
    support: full
  diff_mode:
    description: Shows the record before and after the change.
    support: full
  action_group:
    description: Use C(group/ipam.allocator.all) in O(ignore:module_defaults) to set the backend options once.
    support: N/A
    membership:
      - ipam.allocator.all
  platform:
    description: Runs on the controller.
    support: N/A
    platforms: posix
'''
