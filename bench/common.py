# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared helpers of the benchmarks: import path, timing, machine description."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(REPO, 'build', 'collections')
BIN = os.path.dirname(sys.executable)


def collection_importable():
    """Make ``ansible_collections.ipam.allocator`` importable from this checkout."""
    link = os.path.join(COLLECTIONS, 'ansible_collections', 'ipam', 'allocator')
    if not os.path.islink(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(REPO, link)
    if COLLECTIONS not in sys.path:
        sys.path.insert(0, COLLECTIONS)


def median_time(function, repeat, setup=None):
    """Median wall time in seconds of ``function()`` over ``repeat`` runs (``setup()`` before each, untimed)."""
    samples = []
    for _index in range(repeat):
        if setup is not None:
            setup()
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo', encoding='utf-8') as handle:
            for line in handle:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        ansible = subprocess.run([os.path.join(BIN, 'ansible'), '--version'], stdout=subprocess.PIPE, text=True,
                                 check=False).stdout.splitlines()[0]
    except (OSError, IndexError):
        ansible = 'ansible-core (unknown)'
    return {
        'cpu': cpu,
        'cores': os.cpu_count(),
        'python': platform.python_version(),
        'ansible': ansible,
        'os': platform.platform(),
    }
