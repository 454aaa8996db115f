# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""With every ansible-core internal the collection uses broken, a play and an inventory parse still work.

tests/utils/broken_core_internals/sitecustomize.py breaks them, for the collection's calls only,
in ansible-playbook, ansible-inventory and their workers; each helper of
plugins/plugin_utils/_core_internals.py must then take its public path, and the results must
be the same. The log the broken internals write proves each was reached and refused.
"""

from __future__ import annotations

import json
import os
import textwrap

from .conftest import REPO, run_tool, tool_env

PLAY = textwrap.dedent('''\
    - name: Lookups, modules and the inventory's source with every internal broken
      hosts: localhost
      gather_facts: false
      module_defaults:
        group/ipam.allocator.all:
          store: "{{ store }}"
      tasks:
        - name: A pool (a run of its own, as a module's action plugin imports the backend in the main process)
          ipam.allocator.ip_pool: {name: lab, cidr: 10.9.0.0/24, gateway: 10.9.0.1}
          when: step == 'pool'
        - name: Stop after the pool
          ansible.builtin.meta: end_play
          when: step == 'pool'
        - name: An address through the lookup (options parsed by ansible-core, backend compiled by the collection loader)
          ansible.builtin.set_fact:
            first: "{{ lookup('ipam.allocator.next_ip', 'lab', name='web01/eth0', store=store) }}"
        - name: Another, as a CIDR
          ansible.builtin.set_fact:
            second: "{{ lookup('ipam.allocator.next_ip', 'lab', name='web02/eth0', store=store, format='cidr') }}"
        - name: The next free one, reserving nothing
          ansible.builtin.set_fact:
            peek: "{{ lookup('ipam.allocator.next_ip', 'lab', store=store) }}"
        - name: The same answers as with the internals
          ansible.builtin.assert:
            that:
              - first == '10.9.0.2'
              - second == '10.9.0.3/24'
              - peek == '10.9.0.4'
    ''')


def test_every_fallback_end_to_end(tmp_path):
    log = tmp_path / 'refused.log'
    env = tool_env(PYTHONPATH=os.path.join(REPO, 'tests', 'utils', 'broken_core_internals'),
                   IPAM_BROKEN_INTERNALS_LOG=str(log))
    store = tmp_path / 'store.yml'
    playbook = tmp_path / 'play.yml'
    playbook.write_text(PLAY)
    for step in ('pool', 'lookups'):
        played = run_tool(['ansible-playbook', '-i', 'localhost,', '-c', 'local', str(playbook), '-e', 'store=%s' % store,
                           '-e', 'step=%s' % step, '-e', 'ansible_python_interpreter={{ ansible_playbook_python }}'], env=env)
        assert 'failed=0' in played.stdout

    source = tmp_path / 'lab.ipam.yml'
    source.write_text('plugin: ipam.allocator.allocations\nstore: %s\n' % store)
    listed = run_tool(['ansible-inventory', '-i', str(source), '--list'],
                      env=dict(env, ANSIBLE_INVENTORY_UNPARSED_FAILED='1'))
    data = json.loads(listed.stdout[listed.stdout.index('{'):])
    hostvars = data['_meta']['hostvars']
    assert sorted(hostvars) == ['web01', 'web02']
    assert hostvars['web01']['ansible_host'] in ('10.9.0.2', {'__ansible_unsafe': '10.9.0.2'})
    assert sorted(data['ipam_lab']['hosts']) == ['web01', 'web02']

    refused = {line.split()[0] for line in log.read_text().splitlines()}
    # The bytecode loader's fallback is forced by the unit tests (test__core_internals.py); in these runs the
    # file backend's modules are already imported when the lookup asks for them, so it is not reached here.
    assert {'options', 'inventory'} <= refused, refused
