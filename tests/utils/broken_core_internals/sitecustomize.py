# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Breaks, as the collection sees them, the ansible-core internals it uses (tests/suites/test_core_internals.py).

Python loads this at start-up when its directory is on PYTHONPATH, in ansible-playbook,
ansible-inventory and every worker they fork. For calls from the collection's own code only
(ansible-core keeps working), as if a release of ansible-core had moved each internal:
- ``C.config.has_configuration_definition`` / ``initialize_plugin_configuration_definitions`` are gone;
- the inventory wrapper has no ``__wrapped__``;
- Python's source loader cannot take the collection's files (``spec_from_file_location`` fails).
Each refusal is noted in the file named by IPAM_BROKEN_INTERNALS_LOG.
"""

import importlib.util
import os
import sys

_COLLECTION = 'ansible_collections.ipam.allocator.'


def _from_collection(depth):
    try:
        return sys._getframe(depth + 1).f_globals.get('__name__', '').startswith(_COLLECTION)
    except ValueError:
        return False


def _note(what):
    path = os.environ.get('IPAM_BROKEN_INTERNALS_LOG')
    if path:
        with open(path, 'a', encoding='utf-8') as handle:
            handle.write('%s %d\n' % (what, os.getpid()))


def _break():
    try:
        from ansible import constants as C
        from ansible.inventory import manager
    except ImportError:
        return     # not an ansible process

    class Config:
        def __init__(self, real):
            self.__dict__['_real'] = real

        def __getattr__(self, name):
            if name in ('has_configuration_definition', 'initialize_plugin_configuration_definitions') and _from_collection(1):
                _note('options')
                raise AttributeError(name)
            return getattr(self._real, name)

    C.config = Config(C.config)

    wrapper = getattr(manager, '_InventoryDataWrapper', None)
    if wrapper is not None:
        class Wrapper(wrapper):  # pylint: disable=too-few-public-methods
            @property
            def __wrapped__(self):
                if _from_collection(1):
                    _note('inventory')
                    raise AttributeError('__wrapped__')
                return wrapper.__wrapped__.__get__(self)

            @__wrapped__.setter
            def __wrapped__(self, value):
                wrapper.__wrapped__.__set__(self, value)

        manager._InventoryDataWrapper = Wrapper

    real_spec = importlib.util.spec_from_file_location

    def spec_from_file_location(*args, **kwargs):
        if _from_collection(1):
            _note('bytecode')
            raise ImportError('the collection loader keeps its packages to itself')
        return real_spec(*args, **kwargs)

    importlib.util.spec_from_file_location = spec_from_file_location


_break()
