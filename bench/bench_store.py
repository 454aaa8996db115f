# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""File store benchmark: the full cost of one allocation (lock, read, plan, write, fsync) vs store size.

Each allocation opens a fresh backend, as each task or lookup does. Baselines,
measured in the same run on the same document: for YAML, PyYAML's libyaml
loader + dumper (``yaml.load(CSafeLoader)`` + ``yaml.dump(CSafeDumper)``); for
JSON, ``json.loads`` + ``json.dumps``. SQLite is compared with itself at 1k records.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile

import yaml

from common import collection_importable, median_time

collection_importable()

from ansible_collections.ipam.allocator.plugins.module_utils._ipam.registry import load_backend  # noqa: E402

SIZES = {'yml': (100, 1000, 10000, 100000), 'json': (100, 1000, 10000, 100000), 'sqlite': (100, 1000, 10000, 100000, 1000000)}
QUICK_SIZES = {'yml': (100, 1000, 10000), 'json': (100, 1000, 10000), 'sqlite': (100, 1000, 10000)}


def document(records):
    """A store document with ``records`` allocations in one /8 pool."""
    addresses = [{'name': 'host%07d' % index, 'address': '10.%d.%d.%d' % (index >> 16 & 255, index >> 8 & 255, index & 255)}
                 for index in range(1, records + 1)]
    return {'version': 1, 'pools': {'big': {'cidr': '10.0.0.0/8', 'addresses': addresses}}}


def build_store(path, records):
    data = document(records)
    if path.endswith('.sqlite'):
        backend = load_backend({'store': path})
        backend.ensure_pool({'name': 'big', 'cidr': '10.0.0.0/8'})
        # One transaction through the store's own API: records and the occupied index.
        with backend.store.writing() as transaction:
            space = transaction.state.space('big')
            from ansible_collections.ipam.allocator.plugins.module_utils._ipam.core.engine import apply, plan_address
            for entry in data['pools']['big']['addresses']:
                apply(space, plan_address(space, entry['name'], address=entry['address']))
            transaction.commit()
        return
    backend = load_backend({'store': path})
    backend.store.persist(_state_of(backend, data))


def _state_of(backend, data):
    from ansible_collections.ipam.allocator.plugins.module_utils._ipam.core.state import DocumentState
    return DocumentState(data, backend.store.path)


def repeats_for(records):
    return 15 if records <= 10000 else 5 if records <= 100000 else 3


def measure(extension, records, directory):
    path = os.path.join(directory, 'store-%d.%s' % (records, extension))
    build_store(path, records)
    counter = iter(range(10 ** 9))

    def allocate_one():
        load_backend({'store': path}).allocate('big', 'new%d' % next(counter))

    seconds = median_time(allocate_one, repeats_for(records))
    result = {'format': extension, 'records': records, 'seconds': seconds, 'bytes': os.path.getsize(path)}
    if extension in ('yml', 'json'):
        with open(path, encoding='utf-8') as handle:
            text = handle.read()
        if extension == 'yml':
            def baseline():
                yaml.dump(yaml.load(text, Loader=yaml.CSafeLoader), Dumper=yaml.CSafeDumper)
        else:
            def baseline():
                json.dumps(json.loads(text))
        result['baseline_seconds'] = median_time(baseline, repeats_for(records))
    return result


def run(quick=False):
    directory = tempfile.mkdtemp(prefix='ipam-bench-store-', dir=os.environ.get('IPAM_BENCH_DIR'))
    try:
        results = []
        for extension, sizes in (QUICK_SIZES if quick else SIZES).items():
            for records in sizes:
                results.append(measure(extension, records, directory))
                print('store %-6s %8d records: %.2f ms' % (extension, records, results[-1]['seconds'] * 1000), file=sys.stderr)
        return results
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == '__main__':
    json.dump(run('--quick' in sys.argv), sys.stdout, indent=2)
