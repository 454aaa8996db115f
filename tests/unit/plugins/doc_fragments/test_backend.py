# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""doc_fragments/backend.py stays static YAML (ansible-doc and sanity read it), so it is held to options.OPTIONS here."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import yaml

from ansible_collections.ipam.allocator.plugins.module_utils._ipam import options as options_module
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.options import BACKEND_OPTIONS, INI_SECTION, OPTIONS


def _fragment_class():
    # Loaded under a name of its own: importing ansible_collections...doc_fragments.backend here would leave
    # a module in sys.modules that ansible-core's fragment loader then fails to use in the other tests.
    path = Path(options_module.__file__).parents[2] / 'doc_fragments' / 'backend.py'
    spec = importlib.util.spec_from_file_location('ipam_allocator_backend_fragment', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ModuleDocFragment


ModuleDocFragment = _fragment_class()
DOCUMENTED = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)['options']
PLUGIN_SOURCES = yaml.safe_load(ModuleDocFragment.PLUGINS)['options']


def test_every_option_is_documented_and_nothing_else():
    assert list(DOCUMENTED) == list(BACKEND_OPTIONS)
    assert list(PLUGIN_SOURCES) == list(BACKEND_OPTIONS)


@pytest.mark.parametrize('option', OPTIONS, ids=repr)
def test_type_and_default_are_the_declared_ones(option):
    documented = DOCUMENTED[option.name]
    assert documented['type'] == option.type
    assert documented.get('default') == option.default


@pytest.mark.parametrize('option', OPTIONS, ids=repr)
def test_plugins_read_the_declared_environment_variable_and_ini_key(option):
    sources = PLUGIN_SOURCES[option.name]
    assert sources['env'] == [{'name': option.env}]
    assert sources.get('ini') == ([{'section': INI_SECTION, 'key': option.name}] if option.ini else None)


@pytest.mark.parametrize('option', [option for option in OPTIONS if option.module_env], ids=repr)
def test_the_environment_variable_modules_read_is_named_in_the_description(option):
    # Modules have no env/ini sources of their own: the description is where a module's reader learns of it.
    assert 'E(%s)' % option.env in ' '.join(DOCUMENTED[option.name]['description'])
