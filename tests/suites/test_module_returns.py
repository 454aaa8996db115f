# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Every key a module returns is in its RETURN documentation, and every documented key is really returned.

A playbook runs each module in every shape it has (single name, ``names``, check mode,
``state: absent``, a pool with every option, a pool made from a prefix, filtered reads)
and saves every registered result (registered as ``<module>__<case>``); ``ansible-doc --json`` gives the documented keys,
``contains`` included.  A dict keyed by allocation name (``allocations`` with ``names``) is
documented by the keys of one entry.
"""

from __future__ import annotations

import json
import subprocess
import textwrap

import pytest

from .conftest import REPO, run_tool, tool_env

MODULES = ('ip_pool', 'ip_address', 'ip_prefix', 'ip_address_info')

# What ansible-core itself adds to every result, or every module may add; not part of a RETURN block.
COMMON = {'changed', 'failed', 'msg', 'warnings', 'deprecations', 'invocation', 'skipped', 'skip_reason'}

# Results whose dicts are keyed by allocation name: the path of that dict in the documentation.
KEYED_BY_NAME = {'allocations', 'diff.before', 'diff.after'}

EXERCISE = textwrap.dedent('''\
    - name: Every module in every shape
      hosts: localhost
      gather_facts: false
      module_defaults:
        group/ipam.allocator.all:
          store: "{{ store }}"
      tasks:
        - name: A pool with every option
          ipam.allocator.ip_pool: {name: lab, cidr: 10.0.0.0/24, ranges: [10.0.0.10-10.0.0.99], reserved: [10.0.0.50],
                                   gateway: 10.0.0.1, description: Lab}
          register: ip_pool__full
        - name: A supernet with prefix-length bounds
          ipam.allocator.ip_pool: {name: sites, cidr: 10.128.0.0/16, min_prefix_length: 20, max_prefix_length: 28,
                                   default_prefix_length: 26}
          register: ip_pool__sites
        - name: A prefix in check mode
          ipam.allocator.ip_prefix: {pool: sites, name: berlin}
          check_mode: true
          register: ip_prefix__check
        - name: A prefix
          ipam.allocator.ip_prefix: {pool: sites, name: berlin, description: Berlin}
          register: ip_prefix__one
        - name: Prefixes for many names
          ipam.allocator.ip_prefix: {pool: sites, names: [paris, rome]}
          diff: true
          register: ip_prefix__names
        - name: A pool made from the prefix
          ipam.allocator.ip_pool: {name: berlin-hosts, cidr: "{{ ip_prefix__one.prefix }}", parent: sites}
          register: ip_pool__child
        - name: An IPv6 pool
          ipam.allocator.ip_pool: {name: lab6, cidr: "2001:db8::/64", gateway: "2001:db8::1"}
          register: ip_pool__v6
        - name: An address in check mode
          ipam.allocator.ip_address: {pool: lab, name: web01}
          check_mode: true
          register: ip_address__check
        - name: An address
          ipam.allocator.ip_address: {pool: lab, name: web01, dns_name: web01.example.com, description: Web}
          register: ip_address__one
        - name: An EUI-64 address
          ipam.allocator.ip_address: {pool: lab6, name: web01/eth0, mac: "52:54:00:12:34:56"}
          register: ip_address__mac
        - name: Addresses for many names
          ipam.allocator.ip_address: {pool: lab, names: [web02, web03]}
          register: ip_address__names
        - name: Addresses for many names, with --diff
          ipam.allocator.ip_address: {pool: lab, names: [web04]}
          diff: true
          register: ip_address__names_diff
        - name: Everything
          ipam.allocator.ip_address_info:
          register: ip_address_info__all
        - name: One pool
          ipam.allocator.ip_address_info: {pool: sites}
          register: ip_address_info__pool
        - name: Everything, in check mode
          ipam.allocator.ip_address_info:
          check_mode: true
          register: ip_address_info__check
        - name: Release an address
          ipam.allocator.ip_address: {pool: lab, name: web01, state: absent}
          register: ip_address__absent
        - name: Release what is not held
          ipam.allocator.ip_address: {pool: lab, name: nobody, state: absent}
          register: ip_address__absent_none
        - name: Release many names
          ipam.allocator.ip_address: {pool: lab, names: [web02], state: absent}
          register: ip_address__names_absent
        - name: Release a prefix
          ipam.allocator.ip_prefix: {pool: sites, name: rome, state: absent}
          register: ip_prefix__absent
        - name: Remove a pool
          ipam.allocator.ip_pool: {name: lab6, state: absent, force: true}
          register: ip_pool__absent
        - name: Save every result
          ansible.builtin.copy:
            dest: "{{ out }}"
            mode: "0600"
            content: "{{ results | to_json }}"
          vars:
            names: "{{ query('ansible.builtin.varnames', '^ip_[a-z_]+__') }}"
            results: "{{ dict(names | zip(names | map('extract', vars))) }}"
    ''')


def documented_paths(entries, prefix=''):
    """{'pool', 'pool.name', ...}: every documented key, with ``contains`` as dotted children."""
    paths = set()
    for key, entry in (entries or {}).items():
        path = prefix + key
        paths.add(path)
        paths |= documented_paths(entry.get('contains'), path + '.')
    return paths


def returned_paths(value, documented, prefix=''):
    """Every key of a result as a dotted path; below a documented key without ``contains``, nothing is looked at."""
    paths = set()
    if isinstance(value, list):
        for item in value:
            paths |= returned_paths(item, documented, prefix)
        return paths
    if not isinstance(value, dict):
        return paths
    keyed = prefix.rstrip('.') in KEYED_BY_NAME and value and all(isinstance(item, dict) for item in value.values())
    for key, item in value.items():
        if not prefix and key in COMMON:
            continue
        if keyed and key not in documented_children(documented, prefix):
            # A dict keyed by name: each entry is one record, documented by its keys.
            paths |= returned_paths(item, documented, prefix)
            continue
        path = prefix + key
        paths.add(path)
        if any(other.startswith(path + '.') for other in documented):
            paths |= returned_paths(item, documented, path + '.')
    return paths


def documented_children(documented, prefix):
    return {path[len(prefix):] for path in documented if path.startswith(prefix) and '.' not in path[len(prefix):]}


@pytest.fixture(scope='module')
def results(tmp_path_factory):
    directory = tmp_path_factory.mktemp('returns')
    playbook = directory / 'exercise.yml'
    playbook.write_text(EXERCISE)
    out = directory / 'results.json'
    run_tool(['ansible-playbook', '-i', 'localhost,', '-c', 'local', str(playbook), '-e', 'store=%s' % (directory / 'store.yml'),
              '-e', 'out=%s' % out, '-e', 'ansible_python_interpreter={{ ansible_playbook_python }}'])
    return json.loads(out.read_text())


@pytest.fixture(scope='module')
def documentation():
    # stdout alone: a Python warning on stderr is no part of the JSON
    listed = subprocess.run(['ansible-doc', '--json', '-t', 'module'] + ['ipam.allocator.%s' % name for name in MODULES],
                            cwd=REPO, env=tool_env(), capture_output=True, text=True, check=False)
    assert listed.returncode == 0, listed.stderr
    docs = json.loads(listed.stdout)
    return {name: documented_paths(docs['ipam.allocator.%s' % name]['return']) for name in MODULES}


@pytest.mark.parametrize('module', MODULES)
def test_return_documentation_matches_what_the_module_returns(module, results, documentation):
    documented = documentation[module]
    mine = {name: result for name, result in results.items() if name.split('__')[0] == module}
    assert mine, 'the exercise playbook ran no %s task' % module
    returned = set()
    for name, result in mine.items():
        assert not result.get('failed'), (name, result)
        returned |= returned_paths(result, documented)
    assert sorted(returned - documented) == [], '%s returns keys its RETURN block does not document' % module
    assert sorted(documented - returned) == [], '%s documents keys that no task of the exercise returned' % module


def test_check_mode_prediction_channel_is_documented(documentation):
    for module in ('ip_pool', 'ip_address', 'ip_prefix'):
        rendered = run_tool(['ansible-doc', '-t', 'module', 'ipam.allocator.%s' % module]).stdout
        text = ' '.join(rendered.split())
        assert 'ipam_allocator_predictions.jsonl' in text and 'ansible-local-*' in text, module
