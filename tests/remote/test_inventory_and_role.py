# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The role ipam.allocator.allocate and the inventory plugin on NetBox and Nautobot, through real ansible runs.

The role allocates interfaces for three hosts with 3 forks; the inventory plugin then
reads the server back with ``ansible-inventory --list`` and must show those hosts, their
addresses and their group, exactly as it does for the file store.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path


ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / '.venv' / 'bin'
POOL = '10.91.0.0/24'

PLAYBOOK = '''
- name: Allocate eth0 for every host through the role, on a server
  hosts: all
  gather_facts: false
  module_defaults:
    group/ipam.allocator.all: "{{ ipam_backend }}"
  tasks:
    - name: The pool
      ipam.allocator.ip_pool:
        name: %(pool)s
        cidr: %(pool)s
      run_once: true

    - name: The role
      ansible.builtin.include_role:
        name: ipam.allocator.allocate
      vars:
        ipam_allocate_interfaces:
          - {name: eth0, pool: %(pool)s}

    - name: Keep the facts
      ansible.builtin.copy:
        content: "{{ dict(ansible_play_hosts_all | zip(ansible_play_hosts_all | map('extract', hostvars, 'ipam_interfaces'))) | to_json }}"
        dest: "{{ facts_file }}"
        mode: "0644"
      run_once: true
''' % {'pool': POOL}


def run(command, cwd, env):
    result = subprocess.run(command, cwd=str(cwd), env=env, capture_output=True, text=True, timeout=900, check=False)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-3000:]
    return result


def test_role_then_inventory_on_a_server(server, tmp_path, control, playbook_env):
    control('reset-data', server.name)
    (tmp_path / 'inventory.yml').write_text(
        'all:\n  vars:\n    ansible_connection: local\n    ansible_python_interpreter: %s\n'
        '  hosts:\n    web01:\n    web02:\n    db01:\n' % (VENV_BIN / 'python'))
    (tmp_path / 'backend.yml').write_text(
        'ipam_backend:\n  backend: %s\n  url: %s\n  token: %s\n' % (server.name, server.url, server.token))
    (tmp_path / 'site.yml').write_text(PLAYBOOK)
    command = ['ansible-playbook', '-i', 'inventory.yml', 'site.yml', '-f', '3', '-e', '@backend.yml',
               '-e', 'facts_file=%s' % (tmp_path / 'facts.json')]
    first = run(command, tmp_path, playbook_env)
    facts = json.loads((tmp_path / 'facts.json').read_text())
    again = run(command, tmp_path, playbook_env)
    recap = re.findall(r'^(\w+) +: ok=\d+ +changed=(\d+)', again.stdout, re.M)
    assert len(recap) == 3 and all(changed == '0' for _host, changed in recap), again.stdout[-2000:]
    assert json.loads((tmp_path / 'facts.json').read_text()) == facts
    addresses = {host: facts[host]['eth0']['address'] for host in ('web01', 'web02', 'db01')}
    assert len(set(addresses.values())) == 3
    assert all(facts[host]['eth0']['prefix_length'] == 24 for host in addresses)
    assert server.token not in first.stdout + again.stdout

    # The same allocations, read back by the inventory plugin from the server.
    (tmp_path / 'server.ipam.yml').write_text(
        'plugin: ipam.allocator.allocations\nbackend: %s\nurl: %s\npools: ["%s"]\n' % (server.name, server.url, POOL))
    listed = run(['ansible-inventory', '-i', 'server.ipam.yml', '--list'], tmp_path,
                 dict(playbook_env, IPAM_ALLOCATOR_TOKEN=server.token, ANSIBLE_INVENTORY_ENABLED='ipam.allocator.allocations'))
    inventory = json.loads(listed.stdout)
    hostvars = inventory['_meta']['hostvars']
    assert set(hostvars) == set(addresses)

    def plain(value):
        return value['__ansible_unsafe'] if isinstance(value, dict) and '__ansible_unsafe' in value else value

    assert {host: plain(hostvars[host]['ansible_host']) for host in hostvars} == addresses
    assert set(inventory['ipam_10_91_0_0_24']['hosts']) == set(addresses)
    assert server.token not in listed.stdout
