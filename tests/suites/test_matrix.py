# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""nox's sessions (noxfile.py, antsibull-nox.toml) from this pytest session, so `make test` ends with one summary.

- ``matrix-<core>``: ansible-test sanity, units and integration on every ansible-core that
  ``requires_ansible`` admits, other than this session's own (``.venv``), whose suites run here
  (tests/unit, tests/suites/test_ansible_test.py);
- ``build-import-check``: the tarball as ``ansible-galaxy collection build`` makes it, through
  galaxy-importer (tests/utils/galaxy-importer.cfg: everything but its container step);
- ``license-check``: ``reuse lint``.

nox finds each Python as ``python3.X`` on PATH: build/pythons holds links to the pyenv interpreters.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
import yaml
from ansible.release import __version__ as ANSIBLE_CORE_VERSION
from packaging.specifiers import SpecifierSet

from .conftest import BIN, BUILD, REPO, run_tool, tool_env

OWN_CORE = '.'.join(ANSIBLE_CORE_VERSION.split('.')[:2])
PYTHONS_DIR = os.path.join(BUILD, 'pythons')


def nox_sessions():
    listed = subprocess.run([os.path.join(BIN, 'nox'), '--list', '--json'], cwd=REPO, capture_output=True, text=True,
                            env=tool_env(), check=False)
    if listed.returncode != 0:
        return {}
    return {session['session']: session for session in json.loads(listed.stdout)}


SESSIONS = nox_sessions()
MATRIX = sorted((name[len('matrix-'):] for name in SESSIONS if name.startswith('matrix-')),
                key=lambda core: tuple(int(part) for part in core.split('.')))


@pytest.fixture(scope='session')
def nox_env():
    """The venv's tools and the pyenv interpreters (python3.X links) first on PATH."""
    run_tool(['bash', os.path.join(REPO, 'tests', 'utils', 'ansible_test_offline.sh'), '-q', os.path.join(BIN, 'python'),
              '--pythons-dir', PYTHONS_DIR])
    env = tool_env(PATH=os.pathsep.join([PYTHONS_DIR, BIN, os.environ.get('PATH', '')]),
                   PIP_CONSTRAINT=os.path.join(REPO, 'tests', 'utils', 'constraints.txt'))
    env.pop('ANSIBLE_COLLECTIONS_PATH', None)
    return env


def run_nox(session, env, *posargs):
    command = [os.path.join(BIN, 'nox'), '--no-color', '--reuse-existing-virtualenvs', '--session', session]
    if posargs:
        command += ['--'] + list(posargs)
    return run_tool(command, env=env, timeout=3600)


def test_matrix_is_what_requires_ansible_admits():
    runtime = yaml.safe_load(open(os.path.join(REPO, 'meta', 'runtime.yml'), encoding='utf-8'))
    admitted = SpecifierSet(runtime['requires_ansible'])
    assert MATRIX == ['2.19', '2.20', '2.21']
    assert all('%s.999' % core in admitted for core in MATRIX)
    assert not [core for core in ('2.16', '2.17', '2.18', '2.22') if '%s.999' % core in admitted]
    assert OWN_CORE in MATRIX, 'the default venv runs ansible-core %s, which requires_ansible does not admit' % OWN_CORE
    pythons = {core: SESSIONS['matrix-%s' % core]['python'] for core in MATRIX}
    assert len(set(pythons.values())) == len(MATRIX), 'each release on a Python of its own: %r' % pythons


@pytest.mark.slow
@pytest.mark.parametrize('core', [core for core in MATRIX if core != OWN_CORE] or ['none'])
def test_matrix(core, nox_env):
    """ansible-test sanity, units and integration on one more ansible-core release (nox -s matrix-<core>)."""
    if core == 'none':
        pytest.fail('nox lists no matrix sessions: is antsibull-nox installed in the venv?')
    output = run_nox('matrix-%s' % core, nox_env).stdout
    assert 'Session matrix-%s was successful' % core in output


@pytest.mark.slow
def test_galaxy_importer_accepts_the_built_tarball(nox_env):
    output = run_nox('build-import-check', nox_env).stdout
    assert 'Importer processing completed successfully' in output
    errors = [line for line in output.splitlines() if line.strip().startswith('ERROR:')]
    assert not errors, 'galaxy-importer reported errors:\n' + '\n'.join(errors)
    assert 'non-fatal error' not in output


def test_reuse_lint(nox_env):
    output = run_nox('license-check', nox_env).stdout
    assert 'compliant with version' in output
