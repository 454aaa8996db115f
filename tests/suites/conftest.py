# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fixtures for the suites that drive real tools: ansible-test, ansible-doc, ansible-lint, ansible-galaxy.

Each suite is a pytest test, so `make test` ends with one summary line for everything.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
BUILD = os.path.join(REPO, 'build')


def tool_env(**extra):
    """The environment every tool runs with: the venv first on PATH, no colours, this checkout's collection."""
    env = dict(os.environ)
    env.update(
        PATH=BIN + os.pathsep + env.get('PATH', ''),
        ANSIBLE_COLLECTIONS_PATH=os.path.join(BUILD, 'collections'),
        ANSIBLE_NOCOLOR='1',
        ANSIBLE_FORCE_COLOR='0',
        NO_COLOR='1',
        PY_COLORS='0',
    )
    env.update(extra)
    return env


def run_tool(command, cwd=REPO, timeout=1800, env=None, expect_rc=0):
    """Run ``command``; on an unexpected exit status, fail showing the tail of its output."""
    completed = subprocess.run(command, cwd=cwd, env=env or tool_env(), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, timeout=timeout, check=False)
    if expect_rc is not None and completed.returncode != expect_rc:
        pytest.fail('%s exited %d (expected %d):\n%s' % (
            ' '.join(command), completed.returncode, expect_rc, completed.stdout[-12000:]), pytrace=False)
    return completed


def _link_collection():
    link = os.path.join(BUILD, 'collections', 'ansible_collections', 'ipam', 'allocator')
    if not os.path.islink(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(REPO, link)


_link_collection()


def _tracked_files():
    listed = subprocess.run(['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], cwd=REPO,
                            stdout=subprocess.PIPE, check=True).stdout.split(b'\0')
    return [name.decode() for name in listed if name and os.path.exists(os.path.join(REPO, name.decode()))]


COPIES = os.path.join(tempfile.gettempdir(), 'ipam-allocator-tests-%d' % os.getuid())


def copy_collection(kind):
    """A copy of the checkout at <tmp>/<kind>/ansible_collections/ipam/allocator.

    ansible-test insists on a physical path ending in ansible_collections/<ns>/<name>
    (a symlink is resolved and refused), and outside this git work tree (inside it,
    git would call the copy ignored); only files git would keep are copied.
    """
    destination = os.path.join(COPIES, kind, 'ansible_collections', 'ipam', 'allocator')
    shutil.rmtree(os.path.join(COPIES, kind), ignore_errors=True)
    for name in _tracked_files():
        target = os.path.join(destination, name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(os.path.join(REPO, name), target, follow_symlinks=False)
    return destination


@pytest.fixture(scope='session')
def ansible_test_ready():
    """ansible-test bootstraps pip from the internet; give it the offline stand-in first."""
    run_tool(['bash', os.path.join(REPO, 'tests', 'utils', 'ansible_test_offline.sh'), sys.executable])
