# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""Base class of the lookups: backend from plugin options, check mode from the variables.

Lookups run in the controller's worker processes, one per host and task, so
they rely on the backend's own guarantees (the file store's lock) for
uniqueness across forks.  This is the one place an ``IpamError`` becomes an
``AnsibleLookupError``.
"""

from __future__ import annotations

from ansible.errors import AnsibleLookupError
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.lookup import LookupBase
from ansible.utils.display import Display

from ansible_collections.ipam.allocator.plugins.plugin_utils._bytecode import import_compiled

# Lookups are imported in every forked worker: the file backend is loaded from bytecode, not compiled again.
import_compiled()

# pylint: disable=wrong-import-position
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.backend import BACKEND_OPTIONS, PREDICTIONS_VAR, load_backend  # noqa: E402
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.errors import IpamError  # noqa: E402


class IpamLookup(LookupBase):

    def lookup_terms(self, backend, terms, check_mode):
        """Return the list of results for ``terms``; subclasses implement it."""
        raise NotImplementedError

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        check_mode = boolean((variables or {}).get('ansible_check_mode', False), strict=False)
        if not terms:
            raise AnsibleLookupError('%s needs at least one pool as its term' % self.ansible_name)
        options = {}
        for key in BACKEND_OPTIONS:
            if self.has_option(key):
                value = self.get_option(key)
                options[key] = str(value) if isinstance(value, str) else value
        try:
            with load_backend(options) as backend:
                if check_mode:
                    backend.pending = list((variables or {}).get(PREDICTIONS_VAR) or [])
                results = self.lookup_terms(backend, [str(term) for term in terms], check_mode)
                for warning in backend.warnings:
                    Display().warning(warning)
                return results
        except IpamError as exc:
            raise AnsibleLookupError(str(exc)) from exc
