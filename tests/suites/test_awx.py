# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""docs/awx.md's credential type: a play and an inventory source run with exactly what its injector produces.

The input and injector configurations are read from docs/awx.md itself; the injector is
rendered the way AWX renders it (Jinja2, sandboxed, the credential's inputs as variables) for
a credential of that type. ansible-playbook and ansible-inventory then run with an environment
made of the injector's variables and nothing else of ours (no IPAM_* or NETBOX_* variable of
this session leaks in), the injector's extra_vars as ``-e @file``, against a stand-in NetBox
on 127.0.0.1 that records every request: each must carry the credential's token, and the
token must never appear in the output.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys

import pytest
import yaml
from jinja2.sandbox import SandboxedEnvironment

from .conftest import BIN, BUILD, REPO

TOKEN = 'f00dfacef00dfacef00dfacef00dfacef00dface'


def _stub_module():
    path = os.path.join(REPO, 'tests', 'unit', 'plugins', 'module_utils', '_ipam', '_stub_server.py')
    spec = importlib.util.spec_from_file_location('ipam_awx_stub_server', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def yaml_blocks():
    text = open(os.path.join(REPO, 'docs', 'awx.md'), encoding='utf-8').read()
    return [yaml.safe_load(block) for block in re.findall(r'^```yaml\n(.*?)^```$', text, flags=re.M | re.S)]


def credential_type():
    blocks = yaml_blocks()
    inputs = [block for block in blocks if isinstance(block, dict) and 'fields' in block]
    injectors = [block for block in blocks if isinstance(block, dict) and 'env' in block]
    playbook = [block for block in blocks if isinstance(block, list) and block and 'module_defaults' in block[0]]
    assert len(inputs) == len(injectors) == len(playbook) == 1, 'docs/awx.md: one input, injector and playbook block each'
    return inputs[0], injectors[0], playbook[0]


def render_injectors(injectors, values):
    """What AWX makes of the injector configuration for a credential with ``values``."""
    env = SandboxedEnvironment(autoescape=False)
    return ({key: env.from_string(template).render(**values) for key, template in injectors.get('env', {}).items()},
            {key: env.from_string(template).render(**values) for key, template in injectors.get('extra_vars', {}).items()})


@pytest.fixture
def netbox():
    stub_module = _stub_module()
    stub = stub_module.StubServer().start()
    # An empty NetBox: every list is an empty page.
    stub.add('GET', r'/api/.*', stub_module.page())
    yield stub
    stub.stop()


def base_env(tmp_path):
    """What a job's environment holds besides the credential: the tools, a home, the collection."""
    return {
        'PATH': BIN + os.pathsep + '/usr/bin:/bin',
        'HOME': str(tmp_path),
        'LANG': 'C.UTF-8',
        'ANSIBLE_COLLECTIONS_PATH': os.path.join(BUILD, 'collections'),
        'ANSIBLE_LOCAL_TEMP': str(tmp_path / 'tmp'),
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_PYTHON_INTERPRETER': sys.executable,
    }


def test_inputs_declare_every_injected_value():
    inputs, injectors, _playbook = credential_type()
    ids = {field['id'] for field in inputs['fields']}
    assert ids == {'backend', 'url', 'token'} and set(inputs['required']) == ids
    assert [field for field in inputs['fields'] if field['id'] == 'token'][0]['secret'] is True
    used = set(re.findall(r'{{\s*(\w+)\s*}}', json.dumps(injectors)))
    assert used == ids


def test_play_and_inventory_with_the_injected_environment(netbox, tmp_path):
    inputs, injectors, playbook = credential_type()
    env_vars, extra_vars = render_injectors(injectors, {'backend': 'netbox', 'url': netbox.url, 'token': TOKEN})
    assert env_vars == {'IPAM_ALLOCATOR_BACKEND': 'netbox', 'IPAM_ALLOCATOR_URL': netbox.url, 'IPAM_ALLOCATOR_TOKEN': TOKEN}
    env = dict(base_env(tmp_path), **env_vars)
    (tmp_path / 'tmp').mkdir()
    extra = tmp_path / 'extra_vars.yml'
    extra.write_text(yaml.safe_dump(extra_vars))

    # The doc's play, its allocation replaced by a read: the stand-in server holds no prefix to allocate from.
    play = dict(playbook[0], hosts='localhost', tasks=[
        {'name': 'Read the server', 'ipam.allocator.ip_address_info': {}, 'register': 'ipam'},
        {'name': 'It is empty', 'ansible.builtin.assert': {'that': ['ipam.allocations == []', 'ipam.pools == []']}},
    ])
    path = tmp_path / 'play.yml'
    path.write_text(yaml.safe_dump([play], sort_keys=False))
    played = subprocess.run([os.path.join(BIN, 'ansible-playbook'), '-i', 'localhost,', '-c', 'local', '-e', '@%s' % extra,
                             str(path), '-vvv'], cwd=str(tmp_path), env=env, capture_output=True, text=True, check=False)
    output = played.stdout + played.stderr
    assert played.returncode == 0, output[-6000:]
    assert 'ok=2' in output and 'failed=0' in output

    source = tmp_path / 'awx.ipam.yml'
    source.write_text('plugin: ipam.allocator.allocations\n')   # backend, URL and token from the credential
    listed = subprocess.run([os.path.join(BIN, 'ansible-inventory'), '-i', str(source), '--list'], cwd=str(tmp_path),
                            env=dict(env, ANSIBLE_INVENTORY_UNPARSED_FAILED='1'), capture_output=True, text=True, check=False)
    assert listed.returncode == 0, listed.stderr[-6000:]
    assert json.loads(listed.stdout)['_meta']['hostvars'] == {}

    assert netbox.seen, 'nothing reached the server'
    assert all(seen.headers.get('Authorization') == 'Token %s' % TOKEN for seen in netbox.seen), netbox.seen
    assert all(seen.method == 'GET' for seen in netbox.seen)
    assert TOKEN not in output and TOKEN not in listed.stdout + listed.stderr
