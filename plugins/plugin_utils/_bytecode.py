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

import importlib
import importlib.util
import os
import sys

_IPAM = 'ansible_collections.ipam.allocator.plugins.module_utils._ipam'

# What the file backend needs, dependencies first (sqlite3 and HTTP stay out until chosen).
FILE_BACKEND_MODULES = ('errors', 'addresses', 'intervals', 'model', 'state', 'engine', 'locking', 'json_codec', 'yaml_codec',
                        'store_document', 'backend', 'backend_file')


def import_compiled(names=FILE_BACKEND_MODULES, package=_IPAM):
    """Import ``package``'s modules ``names`` (in that order), each compiled once and cached."""
    package_module = importlib.import_module(package)
    directory = list(package_module.__path__)[0]
    for name in names:
        fullname = '%s.%s' % (package, name)
        if fullname in sys.modules:
            continue
        spec = importlib.util.spec_from_file_location(fullname, os.path.join(directory, name + '.py'))
        if spec is None or spec.loader is None:
            importlib.import_module(fullname)
            continue
        module = importlib.util.module_from_spec(spec)
        sys.modules[fullname] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[fullname]
            raise
        setattr(package_module, name, module)
