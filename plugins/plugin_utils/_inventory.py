# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""Base class of the inventory plugins: a backend from the source's options, its errors as parse failures.

This is the one place an ``IpamError`` becomes an ``AnsibleParserError``, as
``_action.IpamAction`` is for the action plugins and ``_lookup.IpamLookup`` for
the lookups.
"""

from __future__ import annotations

import contextlib
import os

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin

from ansible_collections.ipam.allocator.plugins.module_utils._ipam.core.errors import IpamError
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.options import plugin_backend_options
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.registry import load_backend


class IpamInventory(BaseInventoryPlugin):
    """Subclasses read their backend inside ``with self.opened_backend(path) as backend:``."""

    @contextlib.contextmanager
    def opened_backend(self, path):
        """The backend the source ``path`` configures; an ``IpamError`` inside the block fails the parse.

        The backend's warnings are shown once the block is done (for example a hand-edited store with
        two names on one address: both become hosts, with one ansible_host, and the user must hear of it).
        """
        options = plugin_backend_options(self)
        backend_name = options.get('backend') or 'file'
        store = options.get('store')
        # A typo in "store" would otherwise give an empty inventory, with no error at all.
        if backend_name == 'file' and store and not os.path.exists(os.path.expanduser(store)):
            raise AnsibleParserError('Inventory source %s: store %s does not exist. Check the "store" option '
                                     '(or IPAM_ALLOCATOR_STORE, or [ipam_allocator] store in ansible.cfg); a store is '
                                     'created by ipam.allocator.ip_pool.' % (path, store))
        try:
            with load_backend(options) as backend:
                yield backend
                warnings = list(backend.warnings)
        except IpamError as exc:
            raise AnsibleParserError('Inventory source %s: cannot read the %s backend: %s'
                                     % (path, backend_name, exc)) from exc
        for warning in warnings:
            self.display.warning('%s: %s' % (self.NAME, warning))
