# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bulk benchmarks (issue 14): many names in one task.

``names`` part: 10,000 names in one ``ip_address`` task on a YAML, JSON and SQLite store, beside
one single-name task on the same store, in the same ``ansible-playbook`` run. Each task's wall
time comes from a callback (``bench/callback_plugins/ipam_task_seconds.py``): from the task's
start to the next one's, so it holds ansible-core's own work for the task (templating the
arguments, passing the result back) as well as the allocation. Also in the run: a rerun of the
10,000, a single-name task on the full store, and a ``set_fact`` of the same 10,000-name list,
which is what ansible-core's templating of such a list costs whoever's the task. In process:
one ``allocate`` and one ``bulk_allocate`` of 10,000 names, each with a fresh backend.

``group`` part (P3b): a play of 500 hosts, ``-f 20``, whose addresses come from one ``run_once``
bulk task and are then set per host with ``set_fact``, beside the same play with a constant
``set_fact``; rounds interleaved, each on a fresh store. Besides the wall time, the CPU time of
``ansible-playbook`` and its workers (user + system, from the rusage of waited-for children):
on a machine that other work keeps busy, the wall time of a play swings by half from one
round to the next, its CPU time far less.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import yaml

from common import BIN, COLLECTIONS, REPO, collection_importable, median_time

collection_importable()

from ansible_collections.ipam.allocator.plugins.module_utils._ipam.registry import load_backend  # noqa: E402
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.core.bulk import AddressRequest, requests_from_items  # noqa: E402

NAMES = 10000
FORMATS = ('yml', 'json', 'sqlite')
CALLBACKS = os.path.join(REPO, 'bench', 'callback_plugins')

NAMES_PLAY = '''
- hosts: localhost
  gather_facts: false
  tasks:
    - name: warm-up
      ipam.allocator.ip_address_info: {store: "{{ store }}", pool: bench}
    - name: single
      ipam.allocator.ip_address: {store: "{{ store }}", pool: bench, name: single-name}
    - name: bulk
      ipam.allocator.ip_address: {store: "{{ store }}", pool: bench, names: "{{ bench_names }}"}
    - name: rerun
      ipam.allocator.ip_address: {store: "{{ store }}", pool: bench, names: "{{ bench_names }}"}
    - name: single_full
      ipam.allocator.ip_address: {store: "{{ store }}", pool: bench, name: one-more}
    - name: templating
      ansible.builtin.set_fact: {bench_copy: "{{ bench_names }}"}
    - name: last
      ansible.builtin.debug: {msg: done}
'''

GROUP_PLAYS = {
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
        my_name: "{{ inventory_hostname }}"
''',
    'run_once_then_templated': '''
- hosts: all
  gather_facts: false
  tasks:
    - ansible.builtin.debug:
        msg: one task for the play
      run_once: true
      register: bench_nothing
    - ansible.builtin.set_fact:
        my_name: "{{ inventory_hostname }}"
''',
    'bulk_run_once': '''
- hosts: all
  gather_facts: false
  tasks:
    - ipam.allocator.ip_address:
        store: "{{ store }}"
        pool: bench
        names: "{{ ansible_play_hosts }}"
      run_once: true
      register: bench_addresses
    - ansible.builtin.set_fact:
        my_ip: "{{ bench_addresses.allocations[inventory_hostname].address }}"
''',
}


def _env(**extra):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR='1', ANSIBLE_HOST_KEY_CHECKING='false',
               PATH=BIN + os.pathsep + os.environ.get('PATH', ''), **extra)
    # Python keeps bytecode by default; this machine's environment turns that off, a user's does not.
    env.pop('PYTHONDONTWRITEBYTECODE', None)
    return env


def _new_store(path):
    load_backend({'store': path}).ensure_pool({'name': 'bench', 'cidr': '10.0.0.0/16'})


def _playbook(arguments, env):
    completed = subprocess.run([os.path.join(BIN, 'ansible-playbook')] + arguments, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError('ansible-playbook %s failed:\n%s' % (' '.join(arguments), completed.stdout[-3000:]))


def run_names(rounds=3, count=NAMES):
    directory = tempfile.mkdtemp(prefix='ipam-bench-bulk-', dir=os.environ.get('IPAM_BENCH_DIR'))
    try:
        names = ['host%05d' % index for index in range(count)]
        names_file = os.path.join(directory, 'names.yml')
        with open(names_file, 'w', encoding='utf-8') as handle:
            yaml.safe_dump({'bench_names': names}, handle)
        play = os.path.join(directory, 'names.yml.play')
        with open(play, 'w', encoding='utf-8') as handle:
            handle.write(NAMES_PLAY)
        seconds_file = os.path.join(directory, 'seconds.json')
        env = _env(ANSIBLE_CALLBACK_PLUGINS=CALLBACKS, ANSIBLE_CALLBACKS_ENABLED='ipam_task_seconds',
                   IPAM_TASK_SECONDS_FILE=seconds_file)
        samples = {extension: {} for extension in FORMATS}
        for round_number in range(rounds):
            for extension in FORMATS:
                store = os.path.join(directory, 'play-%d.%s' % (round_number, extension))
                _new_store(store)
                _playbook(['-i', 'localhost,', '-c', 'local', '-e', 'ansible_python_interpreter=' + sys.executable,
                           '-e', 'store=' + store, '-e', '@' + names_file, play], env)
                held = load_backend({'store': store}).allocations(pool='bench')
                assert len({view['address'] for view in held}) == count + 2, 'duplicate or missing addresses'
                with open(seconds_file, encoding='utf-8') as handle:
                    for task, value in json.load(handle).items():
                        samples[extension].setdefault(task, []).append(value)
                samples[extension].setdefault('in_process_single', []).append(_in_process(directory, extension, names[:0]))
                samples[extension].setdefault('in_process_bulk', []).append(_in_process(directory, extension, names))
                print('bulk names %-6s round %d: single %.3f s, bulk %.3f s' % (
                    extension, round_number + 1, samples[extension]['single'][-1], samples[extension]['bulk'][-1]),
                    file=sys.stderr)
        rows = []
        for extension in FORMATS:
            row = {'format': extension, 'names': count}
            row.update((task, statistics.median(values)) for task, values in samples[extension].items()
                       if task not in ('warm-up', 'last'))
            rows.append(row)
        return {'names': count, 'rounds': rounds, 'rows': rows, 'load_average': os.getloadavg()}
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _in_process(directory, extension, names):
    """Seconds for one fresh backend to allocate ``names`` (none: one single name) in a new store."""
    store = os.path.join(directory, 'in-process.%s' % extension)
    for leftover in (store, store + '.lock'):
        if os.path.exists(leftover):
            os.unlink(leftover)
    _new_store(store)
    if not names:
        return median_time(lambda: load_backend({'store': store}).allocate('bench', 'single-%f' % time.time()), 1)
    return median_time(lambda: load_backend({'store': store}).bulk_allocate(
        'bench', requests_from_items(names, AddressRequest)), 1)


def _children_cpu():
    """CPU seconds (user + system) of this process's waited-for children and their descendants so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def write_inventory(path, hosts):
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write('all:\n  vars:\n    ansible_connection: local\n    ansible_python_interpreter: %s\n  hosts:\n' % sys.executable)
        handle.write(''.join('    host%04d:\n' % index for index in range(hosts)))


def run_group(rounds=5, hosts=500, forks=20):
    directory = tempfile.mkdtemp(prefix='ipam-bench-group-', dir=os.environ.get('IPAM_BENCH_DIR'))
    try:
        inventory = os.path.join(directory, 'inventory.yml')
        write_inventory(inventory, hosts)
        for name, text in GROUP_PLAYS.items():
            with open(os.path.join(directory, name + '.yml'), 'w', encoding='utf-8') as handle:
                handle.write(text)
        env = _env()
        samples = {name: [] for name in GROUP_PLAYS}
        cpu_samples = {name: [] for name in GROUP_PLAYS}
        for round_number in range(rounds):
            for name in GROUP_PLAYS:
                store = os.path.join(directory, 'store-%s-%d.yml' % (name, round_number))
                _new_store(store)
                cpu_before = _children_cpu()
                started = time.perf_counter()
                _playbook(['-i', inventory, '-f', str(forks), '-e', 'store=' + store, os.path.join(directory, name + '.yml')], env)
                samples[name].append(time.perf_counter() - started)
                cpu_samples[name].append(_children_cpu() - cpu_before)
                if name == 'bulk_run_once':
                    held = load_backend({'store': store}).allocations(pool='bench')
                    assert len({view['address'] for view in held}) == hosts, 'duplicate or missing addresses'
                print('bulk group %-18s round %d: %.2f s, %.2f s of CPU' % (
                    name, round_number + 1, samples[name][-1], cpu_samples[name][-1]), file=sys.stderr)
        return {'hosts': hosts, 'forks': forks, 'rounds': rounds, 'load_average': os.getloadavg(),
                'median_seconds': {name: statistics.median(values) for name, values in samples.items()},
                'median_cpu_seconds': {name: statistics.median(values) for name, values in cpu_samples.items()},
                'samples': samples, 'cpu_samples': cpu_samples}
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == '__main__':
    part = sys.argv[1] if len(sys.argv) > 1 else 'names'
    json.dump(run_names() if part == 'names' else run_group(), sys.stdout, indent=2)
