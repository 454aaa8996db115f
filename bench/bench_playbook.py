# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Playbook benchmark: wall time of one task over 500 hosts with 20 forks, against a set_fact baseline.

Cases, interleaved round by round so machine noise hits them alike, each on a fresh store:
- ``set_fact`` from a constant: the baseline, Ansible's own cost per host-task;
- ``set_fact`` from the two templated values an ``ip_address`` task here templates
  (``{{ store }}``, ``{{ inventory_hostname }}``): what ansible-core's templating of task
  arguments costs in each fresh worker, whoever's the task;
- ``set_fact`` from ``lookup('ipam.allocator.next_ip', ..., name=inventory_hostname)``;
- ``ipam.allocator.ip_address`` (its action plugin allocates on the controller);
- ``ansible.builtin.ping`` with ``delegate_to: localhost``: what a module-only design costs
  (every host-task ships and runs a module), for the record.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from common import BIN, COLLECTIONS, collection_importable

collection_importable()

from ansible_collections.ipam.allocator.plugins.module_utils._ipam.registry import load_backend  # noqa: E402

HOSTS = 500
FORKS = 20

PLAYS = {
    'set_fact': '''
- hosts: all
  gather_facts: false
  tasks:
    - ansible.builtin.set_fact:
        my_ip: 10.0.0.1
''',
    'set_fact_templated': '''
- hosts: all
  gather_facts: false
  tasks:
    - ansible.builtin.set_fact:
        my_store: "{{ store }}"
        my_name: "{{ inventory_hostname }}"
''',
    'lookup': '''
- hosts: all
  gather_facts: false
  tasks:
    - ansible.builtin.set_fact:
        my_ip: "{{ lookup('ipam.allocator.next_ip', 'bench', name=inventory_hostname, store=store) }}"
''',
    'ip_address': '''
- hosts: all
  gather_facts: false
  tasks:
    - ipam.allocator.ip_address:
        store: "{{ store }}"
        pool: bench
        name: "{{ inventory_hostname }}"
''',
    'ping_delegated': '''
- hosts: all
  gather_facts: false
  tasks:
    - ansible.builtin.ping:
      delegate_to: localhost
''',
}


def write_inventory(path, hosts):
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write('all:\n  vars:\n    ansible_connection: local\n    ansible_python_interpreter: %s\n  hosts:\n' % sys.executable)
        handle.write(''.join('    host%04d:\n' % index for index in range(hosts)))


def run(rounds=3, hosts=HOSTS, forks=FORKS, extension='yml'):
    directory = tempfile.mkdtemp(prefix='ipam-bench-playbook-', dir=os.environ.get('IPAM_BENCH_DIR'))
    try:
        inventory = os.path.join(directory, 'inventory.yml')
        write_inventory(inventory, hosts)
        for name, text in PLAYS.items():
            with open(os.path.join(directory, name + '.yml'), 'w', encoding='utf-8') as handle:
                handle.write(text)
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR='1', ANSIBLE_HOST_KEY_CHECKING='false',
                   PATH=BIN + os.pathsep + os.environ.get('PATH', ''))
        # Python keeps bytecode by default; this machine's environment turns that off, a user's does not.
        env.pop('PYTHONDONTWRITEBYTECODE', None)
        samples = {name: [] for name in PLAYS}
        for round_number in range(rounds):
            for name in PLAYS:
                store = os.path.join(directory, 'store-%s-%d.%s' % (name, round_number, extension))
                load_backend({'store': store}).ensure_pool({'name': 'bench', 'cidr': '10.0.0.0/16'})
                started = time.perf_counter()
                completed = subprocess.run([os.path.join(BIN, 'ansible-playbook'), '-i', inventory, '-f', str(forks),
                                            '-e', 'store=' + store, os.path.join(directory, name + '.yml')],
                                           env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
                elapsed = time.perf_counter() - started
                if completed.returncode != 0:
                    raise RuntimeError('%s failed:\n%s' % (name, completed.stdout[-3000:]))
                if name in ('lookup', 'ip_address'):
                    held = load_backend({'store': store}).allocations(pool='bench')
                    assert len({view['address'] for view in held}) == hosts, 'duplicate or missing addresses'
                samples[name].append(elapsed)
                print('playbook %-15s round %d: %.2f s' % (name, round_number + 1, elapsed), file=sys.stderr)
        return {'hosts': hosts, 'forks': forks, 'rounds': rounds, 'store': extension,
                'median_seconds': {name: statistics.median(values) for name, values in samples.items()},
                'samples': samples}
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == '__main__':
    json.dump(run(rounds=int(sys.argv[1]) if len(sys.argv) > 1 else 3), sys.stdout, indent=2)
