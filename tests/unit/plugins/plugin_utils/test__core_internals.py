# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""plugin_utils/_core_internals.py: each ansible-core internal, and the public path it falls back to, forced.

These run on every ansible-core of the matrix (``nox``): where an internal is there, the
fast path is taken and checked; each fallback is forced by breaking the internal here.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest

from ansible import constants as C

from ansible_collections.ipam.allocator.plugins.plugin_utils import _core_internals

COLLECTIONS = str(Path(_core_internals.__file__).parents[5])


# -- 1. option definitions -----------------------------------------------------------------------

class FakeConfig:
    def __init__(self, fail=False):
        self.defs = {}
        self.fail = fail

    def has_configuration_definition(self, plugin_type, name):
        return name in self.defs.get(plugin_type, {})

    def initialize_plugin_configuration_definitions(self, plugin_type, name, defs):
        if self.fail:
            raise TypeError('initialize_plugin_configuration_definitions() takes 3 positional arguments')
        self.defs.setdefault(plugin_type, {})[name] = defs


def test_ansible_core_has_the_config_internals():
    """The fast path exists on the ansible-core under test (else every lookup parses its docs: slower, not broken)."""
    assert callable(getattr(C.config, 'has_configuration_definition', None))
    assert callable(getattr(C.config, 'initialize_plugin_configuration_definitions', None))


def test_options_are_registered_under_every_name(monkeypatch):
    config = FakeConfig()
    monkeypatch.setattr(C, 'config', config)
    assert _core_internals.register_plugin_options('lookup', ('a.b', 'x.y.z'), lambda: {'o': {'type': 'int'}})
    assert config.defs == {'lookup': {'a.b': {'o': {'type': 'int'}}, 'x.y.z': {'o': {'type': 'int'}}}}
    assert _core_internals.LAST_PATH['options'] == 'internal'


@pytest.mark.parametrize('broken', ['missing', 'raises', 'no-options'])
def test_options_fall_back_to_ansible_core_parsing_the_docs(monkeypatch, broken):
    config = FakeConfig(fail=(broken == 'raises'))
    if broken == 'missing':
        config = types.SimpleNamespace()
    monkeypatch.setattr(C, 'config', config)
    compute = (lambda: None) if broken == 'no-options' else (lambda: {'o': {}})
    assert _core_internals.register_plugin_options('lookup', ('a.b',), compute) is False
    assert _core_internals.LAST_PATH['options'] == 'public'
    assert getattr(config, 'defs', {}) == {}


# In a child: ansible-core's config manager and plugin loader are process-wide.
LOOKUP_CHILD = textwrap.dedent('''
    import json, sys
    from ansible import constants as C
    if sys.argv[1] == 'broken':
        class Config:
            """C.config as if a release of ansible-core had renamed both methods, as the collection sees it."""
            def __init__(self, real):
                self.__dict__['_real'] = real
            def __getattr__(self, name):
                caller = sys._getframe(1).f_globals.get('__name__', '')
                if caller.startswith('ansible_collections.ipam.') and name in (
                        'has_configuration_definition', 'initialize_plugin_configuration_definitions'):
                    raise AttributeError(name)
                return getattr(self._real, name)
        C.config = Config(C.config)
    from ansible.plugins.loader import init_plugin_loader, lookup_loader
    init_plugin_loader([%(collections)r])
    from ansible_collections.ipam.allocator.plugins.plugin_utils import _core_internals
    if sys.argv[1] == 'no-merge-fragment':
        _core_internals._merge_fragment = None    # as if ansible.utils.plugin_docs had moved it
    plugin = lookup_loader.get('ipam.allocator.next_ip')
    plugin.set_options(direct={})
    print(json.dumps({'path': _core_internals.LAST_PATH.get('options'), 'lock_timeout': plugin.get_option('lock_timeout'),
                      'backend': plugin.get_option('backend')}))
''')


@pytest.mark.parametrize('mode, path', [('intact', 'internal'), ('broken', 'public'), ('no-merge-fragment', 'public')])
def test_a_lookup_gets_its_options_either_way(mode, path):
    env = {key: value for key, value in os.environ.items() if not key.startswith('ANSIBLE_')}
    result = subprocess.run([sys.executable, '-c', LOOKUP_CHILD % {'collections': COLLECTIONS}, mode],
                            capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {'path': path, 'lock_timeout': 60, 'backend': 'file'}


# -- 2. the inventory data behind the wrapper ----------------------------------------------------

class Data:
    def add_host(self, host):
        return host

    add_group = add_child = set_variable = get_host = add_host


class Wrapper:
    def __init__(self, wrapped):
        self.__wrapped__ = wrapped


class Raising:
    @property
    def __wrapped__(self):
        raise AttributeError('__wrapped__')


def test_inventory_data_behind_the_wrapper():
    data = Data()
    assert _core_internals.inventory_data(Wrapper(data)) is data
    assert _core_internals.LAST_PATH['inventory'] == 'internal'


@pytest.mark.parametrize('inventory', [Data(), Wrapper(None), Wrapper(object()), Raising()],
                         ids=['no-wrapper', 'wrapped-none', 'wrapped-other', 'raises'])
def test_inventory_falls_back_to_the_plugin_api(inventory):
    assert _core_internals.inventory_data(inventory) is inventory
    assert _core_internals.LAST_PATH['inventory'] == 'public'


def test_ansible_core_wraps_inventory_data_the_way_we_expect():
    """On this ansible-core, the wrapper (if any) exposes the InventoryData: the fast path is really taken."""
    manager = pytest.importorskip('ansible.inventory.manager')
    wrapper_class = getattr(manager, '_InventoryDataWrapper', None)
    if wrapper_class is None:
        pytest.skip('this ansible-core does not wrap the inventory data: the plugin uses self.inventory')
    from ansible.inventory.data import InventoryData
    data = InventoryData()
    wrapper = wrapper_class(data, target_plugin=types.SimpleNamespace(trusted_by_default=False), origin=None)
    assert _core_internals.inventory_data(wrapper) is data


# -- 3. the bytecode loader ---------------------------------------------------------------------

@pytest.fixture
def fake_package(tmp_path, monkeypatch):
    name = 'ipam_fakepkg_%d' % os.getpid()
    package = tmp_path / name
    package.mkdir()
    (package / '__init__.py').write_text('')
    (package / 'base.py').write_text('VALUE = 42\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    for module in [module for module in sys.modules if module == name or module.startswith(name + '.')]:
        del sys.modules[module]


def test_bytecode_loader_uses_pythons_source_loader(fake_package):
    _core_internals.import_compiled(('base',), fake_package)
    module = sys.modules[fake_package + '.base']
    assert module.VALUE == 42 and type(module.__spec__.loader).__name__ == 'SourceFileLoader'
    assert _core_internals.LAST_PATH['bytecode'] == 'internal'


@pytest.mark.parametrize('broken', ['no-spec', 'raises', 'no-path'])
def test_bytecode_loader_falls_back_to_a_plain_import(fake_package, monkeypatch, broken):
    if broken == 'no-path':
        # The collection loader's package is no plain directory: the module comes through a plain import.
        imported = []

        def plain_import(name):
            imported.append(name)
            return types.SimpleNamespace(__path__=[])
        monkeypatch.setattr(importlib, 'import_module', plain_import)
        _core_internals.import_compiled(('base',), fake_package)
        assert imported == [fake_package, fake_package + '.base']
        assert _core_internals.LAST_PATH['bytecode'] == 'public'
        return
    if broken == 'no-spec':
        monkeypatch.setattr(importlib.util, 'spec_from_file_location', lambda *args, **kwargs: None)
    else:
        def refuse(*args, **kwargs):
            raise ImportError('not a plain directory')
        monkeypatch.setattr(importlib.util, 'spec_from_file_location', refuse)
    _core_internals.import_compiled(('base',), fake_package)
    assert sys.modules[fake_package + '.base'].VALUE == 42
    assert _core_internals.LAST_PATH['bytecode'] == 'public'
