# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Real ansible-playbook runs of the integration targets on NetBox and Nautobot.

The targets are the ones ansible-test runs on the file backend, unchanged: their plays set
``module_defaults: {group/ipam.allocator.all: "{{ ipam_backend }}"}`` (and the lookups take
``**ipam_backend``), and here ``ipam_backend`` names a server instead of a store.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TARGETS = ROOT / 'tests' / 'integration' / 'targets'

REMOTE_TARGETS = ('module_ip_address', 'module_ip_pool', 'module_ip_prefix', 'bad_input', 'lookup_next_ip', 'check_mode_runs',
                  'bulk_names')


@pytest.mark.parametrize('target', REMOTE_TARGETS)
def test_integration_target(server, target, tmp_path, control, playbook_env):
    control('reset-data', server.name)
    backend_vars = tmp_path / 'backend.yml'
    # A generous timeout: lookup_next_ip runs 50 forks against a server on a 2-core test machine.
    backend_vars.write_text('ipam_backend:\n  backend: %s\n  url: %s\n  token: %s\n  timeout: 90\n'
                            % (server.name, server.url, server.token))
    result = subprocess.run(['bash', 'runme.sh'], cwd=str(TARGETS / target), capture_output=True, text=True, timeout=1800, check=False,
                            env=dict(playbook_env, IPAM_TEST_VARS=str(backend_vars), TMPDIR=str(tmp_path)))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert server.token not in result.stdout
    assert 'Traceback' not in output


def test_portable_example_runs_unchanged(server, tmp_path, control, playbook_env):
    """examples/portable/site.yml on a server: only the module_defaults (the vars file) differ from the file store."""
    control('reset-data', server.name)
    example = ROOT / 'examples' / 'portable'
    backend_vars = tmp_path / 'backend.yml'
    backend_vars.write_text((example / ('backend-%s.yml' % server.name)).read_text().replace(
        'https://%s.example.com' % server.name, server.url))
    env = dict(playbook_env, **{'%s_TOKEN' % server.name.upper(): server.token})
    command = ['ansible-playbook', '-i', str(ROOT / 'examples' / 'inventory.yml'), 'site.yml', '-e', '@%s' % backend_vars]
    first = subprocess.run(command, cwd=str(example), capture_output=True, text=True, timeout=600, check=False, env=env)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
    again = subprocess.run(command, cwd=str(example), capture_output=True, text=True, timeout=600, check=False, env=env)
    assert again.returncode == 0, again.stdout[-4000:]
    assert 'changed=1' not in again.stdout and server.token not in first.stdout + again.stdout
