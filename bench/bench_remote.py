# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Remote backend benchmark against the real test servers (tests/servers/servers.sh, 127.0.0.1 only).

For each running server: N allocations through our backend vs N raw ``requests`` POSTs to the
prefix's ``available-ips/`` endpoint on the same server (the floor any client pays), and the HTTP
requests our backend sends per allocation and per release, counted on its requests.Session:
- steady state: one backend object allocating N names (a lookup with several terms, a long play
  in one process: the prefix is looked up once);
- per task: a fresh backend per allocation, as every task or lookup call in a playbook does.

    .venv/bin/python bench/bench_remote.py [--count 100] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time

import requests

from common import REPO, collection_importable

collection_importable()

from ansible_collections.ipam.allocator.plugins.module_utils._ipam.registry import load_backend  # noqa: E402

SERVERS = os.path.join(REPO, 'tests', 'servers', 'servers.sh')


def servers():
    output = subprocess.run(['bash', SERVERS, 'env'], stdout=subprocess.PIPE, text=True, check=True).stdout
    values = dict(re.findall(r'^export (IPAM_TEST_\w+)=(.*)$', output, re.M))
    found = {}
    for name in ('nautobot', 'netbox'):
        prefix = 'IPAM_TEST_%s_' % name.upper()
        if prefix + 'URL' in values:
            found[name] = {'url': values[prefix + 'URL'], 'token': values[prefix + 'TOKEN'],
                           'scheme': values[prefix + 'AUTH_SCHEME']}
    return found


class Counter:
    def __init__(self):
        self.count = 0

    def __call__(self, response, *args, **kwargs):
        self.count += 1
        return response


def counted(backend):
    counter = Counter()
    backend.http._session.hooks['response'].append(counter)  # pylint: disable=protected-access
    return counter


def raw_posts(server, name, cidr, count):
    """``count`` POSTs to available-ips with a bare requests.Session: no lookups, no idempotency."""
    session = requests.Session()
    session.headers.update({'Authorization': '%s %s' % (server['scheme'], server['token']), 'Accept': 'application/json'})
    base = server['url'].rstrip('/')
    prefix = session.get(base + '/api/ipam/prefixes/', params={'prefix': cidr}, timeout=30).json()['results'][0]
    body = {'status': 'Active'} if name == 'nautobot' else {}
    started = time.perf_counter()
    for _index in range(count):
        while True:
            try:
                answer = session.post(base + '/api/ipam/prefixes/%s/available-ips/' % prefix['id'], json=body, timeout=30)
            except requests.ConnectionError:
                continue   # uWSGI drops idle keep-alive connections now and then; the next POST reconnects
            if answer.status_code == 201:
                break
            if answer.status_code != 400:   # Nautobot's concurrency race answer is 400; none here, but be safe
                raise RuntimeError(answer.text)
    return time.perf_counter() - started


def raw_checked_posts(server, name, cidr, count):
    """``count`` allocations as bare requests, each the filtered GET an idempotent allocation needs, then the POST."""
    session = requests.Session()
    session.headers.update({'Authorization': '%s %s' % (server['scheme'], server['token']), 'Accept': 'application/json'})
    base = server['url'].rstrip('/')
    prefix = session.get(base + '/api/ipam/prefixes/', params={'prefix': cidr}, timeout=30).json()['results'][0]
    within = {'prefix': cidr} if name == 'nautobot' else {'parent': cidr}
    body = {'status': 'Active'} if name == 'nautobot' else {}
    started = time.perf_counter()
    for index in range(count):
        wanted = 'checked%04d' % index
        while True:
            try:
                held = session.get(base + '/api/ipam/ip-addresses/', params=dict(within, description__isw=wanted), timeout=30)
                held.raise_for_status()
                if held.json()['count'] == 0:
                    answer = session.post(base + '/api/ipam/prefixes/%s/available-ips/' % prefix['id'],
                                          json=dict(body, description=wanted), timeout=30)
                    answer.raise_for_status()
                break
            except requests.ConnectionError:
                continue
    return time.perf_counter() - started


def _remove_raw_pools(server, name, cidrs):
    """Delete what the raw loops made (untagged addresses), so every run starts from empty prefixes."""
    session = requests.Session()
    session.headers.update({'Authorization': '%s %s' % (server['scheme'], server['token']), 'Accept': 'application/json'})
    base = server['url'].rstrip('/')
    for cidr in cidrs:
        within = {'prefix': cidr} if name == 'nautobot' else {'parent': cidr}
        while True:
            held = session.get(base + '/api/ipam/ip-addresses/', params=dict(within, limit=500), timeout=60).json()['results']
            if not held:
                break
            session.delete(base + '/api/ipam/ip-addresses/', json=[{'id': obj['id']} for obj in held], timeout=120).raise_for_status()


def measure(name, server, count):
    options = {'backend': name, 'url': server['url'], 'token': server['token']}
    ours_cidr, raw_cidr, task_cidr, checked_cidr = '10.231.0.0/16', '10.232.0.0/16', '10.233.0.0/16', '10.234.0.0/16'
    _remove_raw_pools(server, name, (raw_cidr, checked_cidr))
    with load_backend(options) as backend:
        for cidr in (ours_cidr, raw_cidr, task_cidr, checked_cidr):
            backend.ensure_pool({'name': cidr, 'cidr': cidr})
        backend.allocate(ours_cidr, 'warm-up')      # creates the tag once, outside the timing
    with load_backend(options) as backend:
        counter = counted(backend)
        started = time.perf_counter()
        for index in range(count):
            backend.allocate(ours_cidr, 'host%04d' % index)
            if index == 0:
                first_allocate, counter.count = counter.count, 0
        ours_seconds = time.perf_counter() - started
        steady_allocate = counter.count / (count - 1)
        counter.count = 0
        rerun_started = time.perf_counter()
        for index in range(count):
            backend.allocate(ours_cidr, 'host%04d' % index)
        rerun_seconds = time.perf_counter() - rerun_started
        steady_rerun = counter.count / count
        counter.count = 0
        for index in range(count):
            backend.release(ours_cidr, 'host%04d' % index)
        steady_release = counter.count / count
    raw_seconds = raw_posts(server, name, raw_cidr, count)
    checked_seconds = raw_checked_posts(server, name, checked_cidr, count)
    per_task = {'allocate': 0, 'release': 0}
    sample = min(count, 20)
    for operation in ('allocate', 'release'):
        for index in range(sample):
            with load_backend(options) as backend:
                counter = counted(backend)
                getattr(backend, operation)(task_cidr, 'task%04d' % index)
                per_task[operation] += counter.count
    with load_backend(options) as backend:
        for cidr in (ours_cidr, task_cidr):
            backend.remove_pool(cidr, force=True)
    _remove_raw_pools(server, name, (raw_cidr, checked_cidr))
    return {
        'server': name, 'count': count,
        'ours_per_second': count / ours_seconds, 'raw_per_second': count / raw_seconds,
        'ratio': raw_seconds / ours_seconds, 'rerun_per_second': count / rerun_seconds,
        'checked_per_second': count / checked_seconds, 'checked_ratio': checked_seconds / ours_seconds,
        'requests_first_allocation': first_allocate,
        'requests_per_allocation': steady_allocate, 'requests_per_rerun': steady_rerun,
        'requests_per_release': steady_release,
        'task_requests_per_allocation': per_task['allocate'] / sample, 'task_requests_per_release': per_task['release'] / sample,
    }


def rows(results):
    out = []
    for result in results:
        server = result['server'].capitalize().replace('box', 'Box').replace('Nautobot', 'Nautobot')
        out += [
            {'server': server, 'measure': 'allocations per second: ours / raw POSTs to available-ips',
             'value': '%.1f / %.1f = %.2f×' % (result['ours_per_second'], result['raw_per_second'], result['ratio']),
             'target': '≥ 0.8× (%s)' % ('met' if result['ratio'] >= 0.8 else '**missed**')},
            {'server': server, 'measure': 'allocations per second: ours / raw GET-then-POST (the two requests of an idempotent allocation)',
             'value': '%.1f / %.1f = %.2f×' % (result['ours_per_second'], result['checked_per_second'], result['checked_ratio'])},
            {'server': server, 'measure': 'HTTP requests per allocation (steady state, after the first)', 'value': '%.2f' % result['requests_per_allocation'],
             'target': '≤ 2 (%s)' % ('met' if result['requests_per_allocation'] <= 2 else '**missed**')},
            {'server': server, 'measure': 'HTTP requests of the first allocation (with the one-time lookups of the pool)',
             'value': '%d' % result['requests_first_allocation']},
            {'server': server, 'measure': 'HTTP requests per release (steady state)', 'value': '%.2f' % result['requests_per_release'],
             'target': '≤ 2 (%s)' % ('met' if result['requests_per_release'] <= 2 else '**missed**')},
            {'server': server, 'measure': 'HTTP requests per rerun (name already allocated)', 'value': '%.2f' % result['requests_per_rerun']},
            {'server': server, 'measure': 'HTTP requests per allocation / release with a fresh backend (one task)',
             'value': '%.1f / %.1f' % (result['task_requests_per_allocation'], result['task_requests_per_release'])},
        ]
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--count', type=int, default=100)
    parser.add_argument('--json', action='store_true')
    arguments = parser.parse_args()
    found = servers()
    results = []
    for name, server in found.items():
        try:
            requests.get(server['url'] + '/api/status/', headers={'Authorization': '%s %s' % (server['scheme'], server['token'])},
                         timeout=10).raise_for_status()
        except requests.RequestException as exc:
            print('%s not running (%s): start it with tests/servers/servers.sh start' % (name, exc), file=sys.stderr)
            continue
        results.append(measure(name, server, arguments.count))
        print('%s: %r' % (name, results[-1]), file=sys.stderr)
    report = {'description': '%d allocations per server, sequential, on the test servers (tests/servers/servers.sh, '
                             'uWSGI/gunicorn with 4 workers, PostgreSQL on the same 2-core machine)' % arguments.count,
              'results': results, 'rows': rows(results)}
    if arguments.json:
        json.dump(report, sys.stdout, indent=2)
    else:
        for row in report['rows']:
            print('%-9s %-75s %-25s %s' % (row['server'], row['measure'], row['value'], row.get('target', '')))


if __name__ == '__main__':
    main()
