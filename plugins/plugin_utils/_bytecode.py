# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""Import the collection's own Python code through Python's bytecode cache.

ansible-core's collection loader compiles collection code from source on every
import and never keeps the bytecode.  A lookup is imported in each forked worker,
one per host and task, so every host-task compiled the file backend, the engine and
the stores again: about 16 ms of CPU, most of what a lookup cost beyond the
allocation itself.  Loading those modules with Python's own source loader keeps
their bytecode in ``__pycache__`` beside them, as for any installed package (where
that directory is not writable, Python compiles them as before).  The modules are
the same files under the same names; only how their code is compiled changes.
"""

from __future__ import annotations

from ansible_collections.ipam.allocator.plugins.plugin_utils import _core_internals

_IPAM = 'ansible_collections.ipam.allocator.plugins.module_utils._ipam'

# What the file backend needs, dependencies first (sqlite3 and HTTP stay out until chosen).
FILE_BACKEND_MODULES = ('core.errors', 'options', 'core.addresses', 'core.intervals', 'core.model', 'core.state',
                        'core.plans', 'core.address_rules', 'core.prefix_rules', 'core.pool_rules', 'core.engine',
                        'core.changes', 'core.overlay', 'core.bulk', 'filestore.locking', 'filestore.json_codec',
                        'filestore.yaml_codec', 'filestore.store_document', 'backend', 'filestore.backend_file', 'registry')


def import_compiled(names=FILE_BACKEND_MODULES, package=_IPAM):
    """Import ``package``'s modules ``names`` (in that order), each compiled once and cached.

    How is ``_core_internals.import_compiled``: it relies on how ansible-core's collection loader lays out
    packages, and imports through that loader (compiling from source, as before) when it cannot.
    """
    _core_internals.import_compiled(names, package)
