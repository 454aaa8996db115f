# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""One place per plugin type turns an IpamError into Ansible's failure: its base class (the module's is run_module).

Read from the source, not imported: importing a lookup registers its options with ansible-core.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PLUGINS = Path(__file__).parents[4] / 'plugins'
#: plugin type -> (the class ansible-core loads, the base it must derive from)
BASES = {'action': ('ActionModule', 'IpamAction'), 'lookup': ('LookupModule', 'IpamLookup'),
         'inventory': ('InventoryModule', 'IpamInventory')}
#: where an IpamError becomes Ansible's failure
CONVERSIONS = {'plugin_utils/_action.py', 'plugin_utils/_lookup.py', 'plugin_utils/_inventory.py',
               'module_utils/_ipam/module.py'}


def _plugin_files(*kinds):
    return [path for kind in kinds for path in sorted((PLUGINS / kind).glob('*.py')) if path.name != '__init__.py']


def _names(tree):
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)} | {
        alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for alias in node.names}


def test_there_are_plugins_to_check():
    assert {path.parent.name for path in _plugin_files(*BASES, 'modules')} == set(BASES) | {'modules'}


@pytest.mark.parametrize('path', _plugin_files(*BASES), ids=lambda path: '%s/%s' % (path.parent.name, path.stem))
def test_every_plugin_derives_from_its_base_and_leaves_ipam_errors_to_it(path):
    tree = ast.parse(path.read_text())
    loaded, base = BASES[path.parent.name]
    classes = {node.name: [getattr(item, 'id', None) for item in node.bases]
               for node in ast.walk(tree) if isinstance(node, ast.ClassDef)}
    assert base in classes[loaded]
    assert 'IpamError' not in _names(tree)


@pytest.mark.parametrize('path', _plugin_files('modules'), ids=lambda path: path.stem)
def test_every_module_runs_through_run_module(path):
    names = _names(ast.parse(path.read_text()))
    assert 'run_module' in names and 'IpamError' not in names


def test_ipam_errors_are_converted_in_the_bases_only():
    converting = set()
    for path in PLUGINS.rglob('*.py'):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ExceptHandler) and node.type is not None and 'IpamError' in ast.dump(node.type):
                if any(isinstance(inner, ast.Raise) and 'Ansible' in ast.dump(inner) for inner in ast.walk(node)) \
                        or any(isinstance(inner, ast.Attribute) and inner.attr == 'fail_json' for inner in ast.walk(node)):
                    converting.add(str(path.relative_to(PLUGINS)))
    assert converting == CONVERSIONS
