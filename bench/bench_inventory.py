#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""How fast is the inventory plugin ipam.allocator.allocations on a large file store?

Builds stores with N allocations (default 10,000: N/2 hosts with one address in
each of two pools) in the YAML and the SQLite format, and a static YAML
inventory with the same hosts, groups and variables.  Then it times
``ansible-inventory --list`` over each source (several runs, medians), and the
plugin's own parse in-process (through the real InventoryManager), and prints
the ratio plugin / static.  Target: the plugin source takes at most twice as
long as the static inventory.

    .venv/bin/python bench/bench_inventory.py [--allocations 10000] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TREE = os.path.join(ROOT, 'build', 'collections')
POOLS = (('lab', '10.0.0.0/16', '10.0.0.1'), ('storage', '10.1.0.0/16', None))


def collection_tree():
    """build/collections/ansible_collections/ipam/allocator -> the checkout (what tests/unit/conftest.py makes)."""
    link = os.path.join(TREE, 'ansible_collections', 'ipam', 'allocator')
    if not os.path.islink(link) and not os.path.isdir(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(ROOT, link)
    if TREE not in sys.path:
        sys.path.insert(0, TREE)
    return TREE


def build_store(path, hosts):
    """A store with two pools and ``hosts`` names in each, written in one transaction.

    The pools go through the backend API; the addresses go through the engine the
    file backend uses, in one write (one allocate() per name would rewrite a YAML
    store 10,000 times).
    """
    from ansible_collections.ipam.allocator.plugins.module_utils._ipam.registry import load_backend
    from ansible_collections.ipam.allocator.plugins.module_utils._ipam.core.engine import apply, plan_address

    with load_backend({'backend': 'file', 'store': path}) as backend:
        for name, cidr, gateway in POOLS:
            backend.ensure_pool({'name': name, 'cidr': cidr, 'gateway': gateway})
        with backend.store.writing() as transaction:
            for index, (pool, _cidr, _gateway) in enumerate(POOLS):
                space = transaction.state.space(pool)
                for host in range(hosts):
                    apply(space, plan_address(space, 'host%05d/eth%d' % (host, index), dns_name='host%05d.example.com' % host))
            transaction.commit()
        records = backend.allocations()
    return records


def write_static(path, records):
    """The same hosts, groups and variables as the plugin makes, as a static YAML inventory."""
    import yaml

    sys.path.insert(0, TREE)
    from ansible_collections.ipam.allocator.plugins.inventory.allocations import group_name, hosts_from

    hosts, _skipped = hosts_from(records)
    groups = {}
    for host, held in hosts.items():
        for record in held:
            groups.setdefault(group_name(record['pool']), {'hosts': {}})['hosts'][host] = None
    hostvars = {host: {'ansible_host': held[0]['address'], 'ipam_allocations': held} for host, held in hosts.items()}
    first = sorted(groups)[0]
    # Variables on the hosts of the first group, membership only in the others.
    groups[first]['hosts'] = {host: hostvars[host] for host in groups[first]['hosts']}
    missing = set(hostvars) - set(groups[first]['hosts'])
    document = {'all': {'children': groups}}
    if missing:
        document['all']['hosts'] = {host: hostvars[host] for host in sorted(missing)}
    with open(path, 'w') as handle:
        yaml.dump(document, handle, Dumper=getattr(yaml, 'CSafeDumper', yaml.SafeDumper), default_flow_style=False)
    return len(hosts)


def timed_runs(command, env, runs):
    times = []
    output = None
    for _run in range(runs):
        start = time.perf_counter()
        result = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        times.append(time.perf_counter() - start)
        if result.returncode != 0 or result.stderr.strip():
            raise SystemExit('%s failed (rc=%d):\n%s' % (' '.join(command), result.returncode, result.stderr.decode()))
        output = result.stdout
    return times, output


PARSE_SCRIPT = r"""
import json, os, sys, time
os.environ['ANSIBLE_COLLECTIONS_PATH'] = sys.argv[1]
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import init_plugin_loader
init_plugin_loader([sys.argv[1]])
times = []
for _run in range(int(sys.argv[3])):
    start = time.perf_counter()
    manager = InventoryManager(loader=DataLoader(), sources=[sys.argv[2]])
    times.append(time.perf_counter() - start)
print(json.dumps({'times': times, 'hosts': len(manager.hosts)}))
"""


def in_process_parse(source, runs, env):
    """Parse time of the plugin alone: the real InventoryManager over the source, in one fresh interpreter."""
    result = subprocess.run([sys.executable, '-c', PARSE_SCRIPT, TREE, source, str(runs)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if result.returncode != 0 or result.stderr.strip():
        raise SystemExit('in-process parse of %s failed:\n%s' % (source, result.stderr.decode()))
    answer = json.loads(result.stdout)
    return answer['times'], answer['hosts']


def summary(name, times):
    return '%-34s median %6.3f s   min %6.3f s   max %6.3f s   (%d runs)' % (
        name, statistics.median(times), min(times), max(times), len(times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', 1)[0])
    parser.add_argument('--allocations', type=int, default=10000, help='allocations in each store (default 10000)')
    parser.add_argument('--runs', type=int, default=5, help='runs of each command (default 5)')
    parser.add_argument('--keep', action='store_true', help='keep the temporary directory')
    parser.add_argument('--json', action='store_true', help='print the results as JSON on stdout (for bench/run.py)')
    args = parser.parse_args()
    if args.json:
        report = sys.stdout
        sys.stdout = sys.stderr     # the human-readable lines go to stderr

    collection_tree()
    bindir = os.path.dirname(os.path.abspath(sys.executable))
    ansible_inventory = os.path.join(bindir, 'ansible-inventory')
    workdir = tempfile.mkdtemp(prefix='ipam-bench-inventory-')
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=TREE, PATH=bindir + os.pathsep + os.environ.get('PATH', ''),
               ANSIBLE_INVENTORY_UNPARSED_FAILED='1', ANSIBLE_INVENTORY_ENABLED='ipam.allocator.allocations,yaml')
    env.pop('ANSIBLE_CONFIG', None)
    hosts = args.allocations // len(POOLS)

    print('ipam.allocator inventory benchmark: %d allocations (%d hosts x %d pools), %d runs each, in %s'
          % (hosts * len(POOLS), hosts, len(POOLS), args.runs, workdir))
    sources = {}
    for kind, extension in (('YAML store', 'yml'), ('SQLite store', 'sqlite')):
        store = os.path.join(workdir, 'store.%s' % extension)
        start = time.perf_counter()
        records = build_store(store, hosts)
        elapsed = time.perf_counter() - start
        print('built %-12s %d allocations in %.2f s (%d bytes)' % (kind, len(records), elapsed, os.path.getsize(store)))
        source = os.path.join(workdir, '%s.ipam.yml' % extension)
        with open(source, 'w') as handle:
            handle.write('plugin: ipam.allocator.allocations\nstore: %s\n' % store)
        sources[kind] = source
    static = os.path.join(workdir, 'static.yml')
    write_static(static, records)

    results = {}
    outputs = {}
    for name, source in [('static YAML inventory', static)] + [('plugin, %s' % kind, path) for kind, path in sources.items()]:
        times, output = timed_runs([ansible_inventory, '-i', source, '--list'], env, args.runs)
        results[name] = times
        outputs[name] = json.loads(output)
        print(summary('ansible-inventory --list, ' + name, times))

    # The plugin's answer and the static inventory must describe the same hosts.
    static_hosts = set(outputs['static YAML inventory']['_meta']['hostvars'])
    for name, listed in outputs.items():
        if set(listed['_meta']['hostvars']) != static_hosts:
            raise SystemExit('%s lists other hosts than the static inventory' % name)

    parse = {}
    for kind, source in [('static YAML inventory', static)] + list(sources.items()):
        times, count = in_process_parse(source, args.runs, env)
        parse[kind] = times
        print(summary('in-process parse, %s' % kind, times) + '  %d hosts' % count)

    base = statistics.median(results['static YAML inventory'])
    print()
    for kind in sources:
        ratio = statistics.median(results['plugin, %s' % kind]) / base
        print('ratio plugin (%s) / static: %.2fx  %s' % (kind, ratio, 'OK (<= 2x)' if ratio <= 2 else 'ABOVE TARGET (2x)'))
    for kind in sources:
        print('in-process parse of the %s: %.3f s median (%.2fx the static inventory) %s' % (
            kind, statistics.median(parse[kind]), statistics.median(parse[kind]) / statistics.median(parse['static YAML inventory']),
            'OK (< 1 s)' if statistics.median(parse[kind]) < 1 else 'SLOW (>= 1 s)'))
    if args.json:
        rows = [{'source': '`ansible-inventory --list`, ' + name, 'seconds': statistics.median(times),
                 'ratio': statistics.median(times) / base if name != 'static YAML inventory' else None}
                for name, times in results.items()]
        parse_base = statistics.median(parse['static YAML inventory'])
        rows += [{'source': 'in-process parse (InventoryManager), ' + kind, 'seconds': statistics.median(times),
                  'ratio': statistics.median(times) / parse_base if kind != 'static YAML inventory' else None}
                 for kind, times in parse.items()]
        json.dump({'description': '%d allocations (%d hosts x %d pools), medians of %d runs, against a static YAML inventory '
                                  'with the same hosts, groups and variables' % (hosts * len(POOLS), hosts, len(POOLS), args.runs),
                   'rows': rows}, report, indent=2)
    if not args.keep:
        import shutil
        shutil.rmtree(workdir)


if __name__ == '__main__':
    main()
