# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""nox sessions, with antsibull-nox: the collection checks of antsibull-nox.toml and the ansible-core matrix.

``matrix-<version>`` runs the sanity, unit and integration suites (``ansible-test``) on one
ansible-core release, in a venv of its own on a Python that release supports, for every
release ``meta/runtime.yml``'s ``requires_ansible`` admits: the matrix and that line cannot
drift apart.  ansible-test runs without containers (``--venv`` / ``--local``), with the
offline stand-in for its pip bootstrap (tests/utils/ansible_test_offline.sh).

    nox -l                              # every session
    nox -s matrix-2.21                  # one ansible-core: sanity, units, integration
    nox -s matrix-2.21 -- units         # one suite of it
    nox -s build-import-check           # build the tarball, run galaxy-importer on it

nox finds ``python3.X`` on PATH; ``make`` puts links to the pyenv interpreters first
(build/pythons, made by tests/utils/ansible_test_offline.sh --pythons-dir).
"""

from __future__ import annotations

import os
import sys

import nox

try:
    import antsibull_nox
    from antsibull_nox.ansible import get_ansible_core_info, get_supported_core_versions
    from antsibull_nox.sessions import prepare_collections
except ImportError:
    print('noxfile.py needs antsibull-nox beside nox: pip install -r requirements-test.txt')
    sys.exit(1)

antsibull_nox.load_antsibull_nox_toml()

HERE = os.path.dirname(os.path.abspath(__file__))

#: The Python each ansible-core release runs on: every release on a Python of its own where it can,
#: the oldest release on what ``pip install ansible`` gives on Python 3.11 (the project's default).
PYTHONS = {'2.19': '3.11', '2.20': '3.12', '2.21': '3.13'}

SUITES = ('sanity', 'units', 'integration')


def matrix_versions():
    """The ansible-core releases ``requires_ansible`` admits (antsibull-nox reads meta/runtime.yml)."""
    return [str(version) for version in get_supported_core_versions()]


def python_for(core):
    """The Python of a release: PYTHONS, else the oldest controller Python antsibull-nox knows it supports."""
    if core in PYTHONS:
        return PYTHONS[core]
    info = get_ansible_core_info(antsibull_nox.ansible.parse_ansible_core_version(core))
    return str(min(info.controller_python_versions))


def next_minor(core):
    major, minor = core.split('.')
    return '%s.%d' % (major, int(minor) + 1)


def add_matrix_session(core):
    python = python_for(core)

    @nox.session(name='matrix-%s' % core, python=python, default=True)
    def matrix(session):
        suites = session.posargs or SUITES
        unknown = sorted(set(suites) - set(SUITES))
        if unknown:
            session.error('unknown suite(s) %s; choose from %s' % (', '.join(unknown), ', '.join(SUITES)))
        session.install('ansible-core>=%s,<%s' % (core, next_minor(core)),
                        '-r', os.path.join(HERE, 'tests', 'unit', 'requirements.txt'),
                        '-c', os.path.join(HERE, 'tests', 'utils', 'constraints.txt'))
        prepared = prepare_collections(session, install_in_site_packages=False, install_out_of_tree=True)
        # ansible-test downloads its pip bootstrap from a host only the internet reaches: the stand-in.
        session.run('bash', os.path.join(HERE, 'tests', 'utils', 'ansible_test_offline.sh'), '-q',
                    os.path.join(session.bin, 'python'), external=True)
        env = {'ANSIBLE_NOCOLOR': '1', 'ANSIBLE_FORCE_COLOR': '0', 'ANSIBLE_COLLECTIONS_PATH': str(prepared.current_place)}
        with session.chdir(prepared.current_path):
            if 'sanity' in suites:
                session.run('ansible-test', 'sanity', '--venv', '--python', python, '--color', 'no', env=env)
            if 'units' in suites:
                session.run('ansible-test', 'units', '--venv', '--python', python, '--color', 'no', env=env)
            if 'integration' in suites:
                session.run('ansible-test', 'integration', '--local', '--python', python, '--color', 'no', env=env)

    matrix.__doc__ = 'ansible-core %s on Python %s: ansible-test %s' % (core, python, ', '.join(SUITES))
    return matrix


for _core in matrix_versions():
    add_matrix_session(_core)
