# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""Every use of an ansible-core internal, each with the public path it falls back to.

The collection leans on three things ansible-core does not promise, for speed only:

1. **Plugin option definitions** (``C.config.has_configuration_definition`` and
   ``initialize_plugin_configuration_definitions``, with ``ansible.utils.plugin_docs.merge_fragment``):
   a lookup hands ansible-core its option definitions, parsed by libyaml, before ansible-core
   parses its documentation with a pure-Python YAML constructor in every forked worker.
   Public path: register nothing; ansible-core parses the documentation itself, as for any plugin.
2. **The inventory data behind ansible-core's wrapper** (``self.inventory.__wrapped__``, 2.19+):
   the inventory plugin sets its plain, untrusted values on the inventory data directly instead of
   through the wrapper that copies every string to tag it. Public path: ``self.inventory``.
3. **The collection loader's packages are directories of source files** (``package.__path__``):
   the collection's own modules are loaded by Python's source loader, which keeps their bytecode.
   Public path: ``importlib.import_module``, through ansible-core's collection loader.

Each helper takes the fast path only when the internal is there and behaves as expected, and
takes the public path on any failure, so a release of ansible-core that moves an internal makes
the collection slower, never broken. Nothing else in the collection touches these internals;
``tests/unit/plugins/plugin_utils/test__core_internals.py`` forces each fallback, and
``tests/suites/test_core_internals.py`` runs the integration targets and the inventory plugin with
every internal broken.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys

from ansible import constants as C
from ansible.errors import AnsibleError

try:
    from ansible.utils.plugin_docs import merge_fragment as _merge_fragment
except ImportError:  # pragma: no cover - moved in some future ansible-core: the public path is taken
    _merge_fragment = None

#: What each helper did last, for the tests: 'internal' or 'public'.
LAST_PATH = {}


def _took(what, path):
    LAST_PATH[what] = path
    return path == 'internal'


# -- 1. plugin option definitions ---------------------------------------------------------------

def merge_fragment(target, source):
    """ansible-core's own merge of a doc fragment's options into a plugin's; raises when it is not there."""
    if _merge_fragment is None:
        raise ImportError('ansible.utils.plugin_docs.merge_fragment is not available')
    _merge_fragment(target, source)


def register_plugin_options(plugin_type, names, compute_options):
    """Register ``compute_options()`` as the option definitions of a plugin known by ``names``.

    Returns True when ansible-core now holds definitions under every name (ours, or its own made
    earlier), False when the public path is taken: nothing is registered and ansible-core parses
    the plugin's documentation itself. ``compute_options`` may return None to take that path.
    """
    config = getattr(C, 'config', None)
    has_definition = getattr(config, 'has_configuration_definition', None)
    initialize = getattr(config, 'initialize_plugin_configuration_definitions', None)
    if not callable(has_definition) or not callable(initialize):
        return _took('options', 'public')
    try:
        missing = [name for name in names if not has_definition(plugin_type, name)]
        if missing:
            options = compute_options()
            if not isinstance(options, dict):
                return _took('options', 'public')
            for name in missing:
                initialize(plugin_type, name, options)
    except (AttributeError, KeyError, TypeError, ValueError, AnsibleError):
        # The internal changed shape (a signature, a key, a check of its own): leave the documentation to ansible-core.
        return _took('options', 'public')
    return _took('options', 'internal')


# -- 2. the inventory data behind ansible-core's wrapper -----------------------------------------

_INVENTORY_METHODS = ('add_host', 'add_group', 'add_child', 'set_variable', 'get_host')


def inventory_data(inventory):
    """The InventoryData that ansible-core 2.19+ wraps for a plugin, or ``inventory`` itself (the public path)."""
    try:
        wrapped = getattr(inventory, '__wrapped__', None)
    except ValueError:
        # ansible-core's wrapt proxy answers a missing __wrapped__ with ValueError ('wrapper has not been initialised')
        wrapped = None
    if wrapped is None or wrapped is inventory or not all(callable(getattr(wrapped, name, None)) for name in _INVENTORY_METHODS):
        _took('inventory', 'public')
        return inventory
    _took('inventory', 'internal')
    return wrapped


# -- 3. the collection's own modules compiled once ------------------------------------------------

def _source_spec(package_module, fullname, name):
    """A spec for Python's own source loader, from the collection loader's package directory; None if there is none."""
    for directory in list(getattr(package_module, '__path__', None) or ()):
        path = os.path.join(directory, name + '.py')
        if os.path.isfile(path):
            spec = importlib.util.spec_from_file_location(fullname, path)
            if spec is not None and spec.loader is not None:
                return spec
    return None


def import_compiled(names, package):
    """Import ``package``'s modules ``names`` (in that order), each compiled once and kept in ``__pycache__``.

    A name may be dotted (``core.engine``): its subpackage is imported first, as any package is.
    A module that Python's source loader cannot take from the package's directory is imported
    through ansible-core's collection loader instead (the public path).
    """
    for dotted in names:
        fullname = '%s.%s' % (package, dotted)
        if fullname in sys.modules:
            continue
        parent, _dot, name = fullname.rpartition('.')
        package_module = importlib.import_module(parent)
        try:
            spec = _source_spec(package_module, fullname, name)
        except (ImportError, OSError, TypeError, ValueError):    # a package path of a shape Python's loader does not take
            spec = None
        if spec is None:
            _took('bytecode', 'public')
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
        _took('bytecode', 'internal')
