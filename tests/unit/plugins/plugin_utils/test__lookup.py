# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""plugin_utils/_lookup.py: the option definitions a lookup registers are exactly those ansible-core would compute."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from ansible_collections.ipam.allocator.plugins.plugin_utils import _lookup

COLLECTIONS = str(Path(_lookup.__file__).parents[5])
LOOKUPS = sorted(path.stem for path in (Path(_lookup.__file__).parents[1] / 'lookup').glob('*.py') if path.stem != '__init__')

# In a child process: ansible-core's plugin loader and config manager are process-wide state.
CHILD = textwrap.dedent('''
    import json, sys, yaml
    from ansible import constants as C
    from ansible.plugins.loader import fragment_loader, init_plugin_loader, lookup_loader
    from ansible.utils.plugin_docs import add_fragments
    try:
        from ansible.parsing.yaml.loader import AnsibleLoader
    except ImportError:
        from ansible._internal._yaml._loader import AnsibleLoader
    init_plugin_loader([%(collections)r])
    from ansible_collections.ipam.allocator.plugins.plugin_utils._lookup import option_definitions

    def plain(value):
        if isinstance(value, dict):
            return {str(key): plain(item) for key, item in value.items() if key != 'version_added_collection'}
        if isinstance(value, list):
            return [plain(item) for item in value]
        return value if value is None or isinstance(value, (bool, int, float)) else str(value)

    report = {}
    for name in sys.argv[1:]:
        fqcn = 'ipam.allocator.' + name
        plugin = lookup_loader.get(fqcn)
        module = sys.modules[type(plugin).__module__]
        # What ansible-core itself computes from the same documentation (plugins/loader.py, _load_config_defs).
        doc = yaml.load(module.DOCUMENTATION, Loader=AnsibleLoader)
        add_fragments(doc, module.__file__, fragment_loader=fragment_loader)
        registered = C.config.get_configuration_definitions('lookup', plugin._load_name)
        plugin.set_options(direct={})
        report[name] = {'ansible': plain(doc['options']), 'ours': plain(option_definitions(module.DOCUMENTATION)),
                        'registered': plain(registered), 'lock_timeout': plugin.get_option('lock_timeout')}
    print(json.dumps(report))
''')


def test_registered_option_definitions_equal_what_ansible_core_computes():
    env = {key: value for key, value in os.environ.items() if not key.startswith('ANSIBLE_')}
    result = subprocess.run([sys.executable, '-c', CHILD % {'collections': COLLECTIONS}] + LOOKUPS,
                            capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert sorted(report) == LOOKUPS == ['next_ip', 'next_prefix']
    for name, found in report.items():
        assert found['ours'] == found['ansible'], name
        assert found['registered'] == found['ansible'], name
        assert {'store', 'backend', 'lock_timeout', 'name'} <= set(found['registered']), name
        # A default from the doc fragment reaches the plugin through the registered definitions.
        assert found['lock_timeout'] == 60


def test_documentation_that_needs_ansible_core_is_left_to_it():
    assert _lookup.option_definitions('options:\n  x:\n    default: "{{ lookup(\'env\', \'X\') }}"\n') is None
    assert _lookup.option_definitions('extends_documentation_fragment: [community.general.x]\noptions: {}\n') is None
    assert _lookup.option_definitions('options: [\n') is None
    assert _lookup.option_definitions('options:\n  x:\n    type: int\n    default: 3\n') == {'x': {'type': 'int', 'default': 3}}


def test_plugin_fqcn():
    assert _lookup.plugin_fqcn('ansible_collections.ipam.allocator.plugins.lookup.next_ip') == 'ipam.allocator.next_ip'
    assert _lookup.plugin_fqcn('ansible_collections.ipam.allocator.plugins.lookup.sub.thing') == 'ipam.allocator.sub.thing'
