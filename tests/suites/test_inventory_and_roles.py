# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The inventory plugin through the real ansible-inventory and ansible-playbook, and molecule for each role.

The store is built by a playbook with the real modules (ip_pool, ip_address), then
read back by ``ansible-inventory -i <x>.ipam.yml``.  Each role's molecule scenario
``default`` runs with ``molecule test`` from the role directory.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(REPO, '.venv', 'bin')
if not os.path.isdir(BIN):
    BIN = os.path.dirname(sys.executable)
TREE = os.path.join(REPO, 'build', 'collections')


def collection_tree():
    """build/collections/ansible_collections/ipam/allocator -> this checkout (tests/unit/conftest.py makes it too)."""
    link = os.path.join(TREE, 'ansible_collections', 'ipam', 'allocator')
    if not os.path.islink(link) and not os.path.isdir(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(REPO, link)
    return TREE


def tool_env(**extra):
    """The venv first on PATH, this checkout's collection (never a copy in ~/.ansible), no colours."""
    env = dict(os.environ)
    env.pop('ANSIBLE_CONFIG', None)
    env.update(
        PATH=BIN + os.pathsep + env.get('PATH', ''),
        ANSIBLE_COLLECTIONS_PATH=collection_tree(),
        ANSIBLE_NOCOLOR='1',
        ANSIBLE_FORCE_COLOR='0',
        NO_COLOR='1',
        PY_COLORS='0',
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
    )
    env.update(extra)
    return env


def run(command, cwd=REPO, env=None, expect_rc=0, timeout=900):
    completed = subprocess.run(command, cwd=cwd, env=env or tool_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, timeout=timeout, check=False)
    if expect_rc is not None and completed.returncode != expect_rc:
        pytest.fail('%s exited %d (expected %d):\nstdout:\n%s\nstderr:\n%s' % (
            ' '.join(command), completed.returncode, expect_rc, completed.stdout[-12000:], completed.stderr[-12000:]),
            pytrace=False)
    return completed


def plain(value):
    """``ansible-inventory --list`` prints untrusted strings as {"__ansible_unsafe": "..."}: the text, recursively."""
    if isinstance(value, dict):
        if set(value) == {'__ansible_unsafe'}:
            return value['__ansible_unsafe']
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


BUILD_STORE = textwrap.dedent('''\
    - name: Build a store with the modules of the collection
      hosts: localhost
      gather_facts: false
      module_defaults:
        group/ipam.allocator.all:
          store: "{{ store }}"
      tasks:
        - name: Pools
          ipam.allocator.ip_pool:
            name: "{{ item.name }}"
            cidr: "{{ item.cidr }}"
            gateway: "{{ item.gateway }}"
          loop:
            - {name: lab, cidr: 10.30.0.0/24, gateway: 10.30.0.1}
            - {name: lab-v6, cidr: "2001:db8:30::/64", gateway: "2001:db8:30::1"}

        - name: Allocations
          ipam.allocator.ip_address:
            pool: "{{ item.pool }}"
            name: "{{ item.name }}"
            dns_name: "{{ item.dns_name | default(omit) }}"
          loop:
            - {pool: lab, name: web01/eth0}     # 10.30.0.2
            - {pool: lab, name: web01/eth1}     # 10.30.0.3
            - {pool: lab, name: web02/eth0}     # 10.30.0.4
            - {pool: lab, name: db01, dns_name: db01.example.com}  # 10.30.0.5
            - {pool: lab-v6, name: web01/eth0}  # 2001:db8:30::2

        - name: An allocation whose description looks like a template
          ipam.allocator.ip_address:
            pool: lab
            name: db01/eth1
            description: !unsafe "{{ lookup('ansible.builtin.pipe', 'echo TEMPLATED') }}"
    ''')


@pytest.fixture(scope='module')
def store(tmp_path_factory):
    """A YAML store, written by a playbook that uses the real modules."""
    directory = tmp_path_factory.mktemp('inventory-store')
    playbook = directory / 'build.yml'
    playbook.write_text(BUILD_STORE)
    path = str(directory / 'store.yml')
    run(['ansible-playbook', '-i', 'localhost,', '-c', 'local', str(playbook), '-e', 'store=%s' % path])
    return path


def source(directory, store_path, extra=''):
    path = os.path.join(str(directory), 'lab.ipam.yml')
    with open(path, 'w') as handle:
        handle.write('plugin: ipam.allocator.allocations\nstore: %s\n%s' % (store_path, extra))
    return path


def inventory_env():
    # A source the plugin cannot parse must fail the command, not just warn.
    return tool_env(ANSIBLE_INVENTORY_UNPARSED_FAILED='1', ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED='1')


def test_ansible_inventory_list(store, tmp_path):
    listed = run(['ansible-inventory', '-i', source(tmp_path, store), '--list'], env=inventory_env())
    assert 'Traceback' not in listed.stderr
    data = json.loads(listed.stdout)
    hostvars = data['_meta']['hostvars']
    assert sorted(hostvars) == ['db01', 'web01', 'web02']
    assert sorted(data['all']['children']) == ['ipam_lab', 'ipam_lab_v6', 'ungrouped']
    assert sorted(data['ipam_lab']['hosts']) == ['db01', 'web01', 'web02']
    assert data['ipam_lab_v6']['hosts'] == ['web01']

    web01 = plain(hostvars['web01'])
    assert web01['ansible_host'] == '10.30.0.2'
    assert [(view['pool'], view['name'], view['address']) for view in web01['ipam_allocations']] == [
        ('lab', 'web01/eth0', '10.30.0.2'), ('lab-v6', 'web01/eth0', '2001:db8:30::2'), ('lab', 'web01/eth1', '10.30.0.3')]
    assert web01['ipam_allocations'][0] == {
        'pool': 'lab', 'name': 'web01/eth0', 'address': '10.30.0.2', 'cidr': '10.30.0.2/24', 'prefix_length': 24,
        'gateway': '10.30.0.1', 'description': None, 'dns_name': None}
    db01 = plain(hostvars['db01'])
    assert db01['ansible_host'] == '10.30.0.5'
    assert db01['ipam_allocations'][0]['dns_name'] == 'db01.example.com'
    # Strings from the store are listed as unsafe, never as templates.
    assert hostvars['db01']['ipam_allocations'][1]['description'] == {
        '__ansible_unsafe': "{{ lookup('ansible.builtin.pipe', 'echo TEMPLATED') }}"}


def test_ansible_inventory_graph(store, tmp_path):
    graph = run(['ansible-inventory', '-i', source(tmp_path, store), '--graph'], env=inventory_env()).stdout
    assert graph.splitlines() == [
        '@all:',
        '  |--@ungrouped:',
        '  |--@ipam_lab:',
        '  |  |--db01',
        '  |  |--web01',
        '  |  |--web02',
        '  |--@ipam_lab_v6:',
        '  |  |--web01',
    ]


def test_ansible_inventory_constructed_and_filtered(store, tmp_path):
    extra = textwrap.dedent('''\
        pools: [lab]
        compose:
          interface_count: ipam_allocations | length
        groups:
          multihomed: ipam_allocations | length > 1
        keyed_groups:
          - key: ipam_allocations | map(attribute='dns_name') | select | list
            prefix: dns
        ''')
    path = source(tmp_path, store, extra)
    graph = run(['ansible-inventory', '-i', path, '--graph', 'multihomed'], env=inventory_env()).stdout
    assert sorted(line.strip(' |-') for line in graph.splitlines()[1:]) == ['db01', 'web01']
    web01 = plain(json.loads(run(['ansible-inventory', '-i', path, '--host', 'web01'], env=inventory_env()).stdout))
    assert web01['interface_count'] == 2
    assert [view['pool'] for view in web01['ipam_allocations']] == ['lab', 'lab']
    listed = json.loads(run(['ansible-inventory', '-i', path, '--list'], env=inventory_env()).stdout)
    assert 'ipam_lab_v6' not in listed
    assert listed['dns_db01_example_com']['hosts'] == ['db01']


def test_ansible_inventory_missing_store_fails_clearly(tmp_path):
    missing = str(tmp_path / 'typo.yml')
    failed = run(['ansible-inventory', '-i', source(tmp_path, missing), '--list'], env=inventory_env(), expect_rc=None)
    assert failed.returncode != 0
    assert 'store %s does not exist' % missing in failed.stderr
    assert 'Traceback' not in failed.stderr
    assert not os.path.exists(missing)


def test_playbook_uses_the_inventory(store, tmp_path):
    """A play over the plugin's hosts: ansible_host and ipam_allocations are usable, store strings stay text."""
    playbook = tmp_path / 'use.yml'
    playbook.write_text(textwrap.dedent('''\
        - name: Use the inventory
          hosts: ipam_lab
          gather_facts: false
          connection: local
          tasks:
            - name: Show each host's address and first allocation's description
              ansible.builtin.debug:
                msg: "{{ inventory_hostname }} {{ ansible_host }} {{ ipam_allocations | map(attribute='description') | select | list }}"
        '''))
    played = run(['ansible-playbook', '-i', source(tmp_path, store), str(playbook)], env=inventory_env()).stdout
    assert '"msg": "web01 10.30.0.2 []"' in played
    assert '"msg": "web02 10.30.0.4 []"' in played
    # The description is shown as stored: the lookup in it never ran.
    assert '"msg": "db01 10.30.0.5 [\\"{{ lookup(\'ansible.builtin.pipe\', \'echo TEMPLATED\') }}\\"]"' in played
    assert played.count('TEMPLATED') == played.count('echo TEMPLATED') == 1
    assert 'failed=1' not in played


def molecule_test(role, tmp_path):
    # Its own ephemeral directory (inventory, state, the scenario's store and files), so two
    # test sessions on one machine never share a molecule run.
    env = tool_env(MOLECULE_EPHEMERAL_DIRECTORY=str(tmp_path / ('molecule-%s' % role)))
    completed = run(['molecule', 'test', '--scenario-name', 'default'], cwd=os.path.join(REPO, 'roles', role),
                    env=env, expect_rc=None, timeout=1800)
    output = completed.stdout + completed.stderr
    if completed.returncode != 0:
        pytest.fail('molecule test of role %s failed (rc=%d):\n%s' % (role, completed.returncode, output[-20000:]), pytrace=False)
    for step in ('prepare', 'converge', 'idempotence', 'side_effect', 'verify'):
        assert re.search(r'default\W+%s\W+Executed: Successful' % step, output), 'molecule step %s did not run' % step
    return output


def test_molecule_allocate(tmp_path):
    molecule_test('allocate', tmp_path)


def test_molecule_network_config(tmp_path):
    molecule_test('network_config', tmp_path)
