# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""An execution environment with this collection: ansible-builder's build context, and what its build would install.

``ansible-builder create`` writes the build context (no container engine needed); the
requirements the build would install are what the context's own ``introspect.py`` finds in
the installed collection, the step the image build runs. Both use the built tarball, as a user's
execution environment would.
"""

from __future__ import annotations

import glob
import os
import sys
import textwrap

import pytest
import yaml

from .conftest import BIN, REPO, run_tool, tool_env

DEFINITION = textwrap.dedent('''\
    ---
    version: 3
    images:
      base_image:
        name: quay.io/fedora/python-313:latest
    dependencies:
      ansible_core:
        package_pip: ansible-core>=2.19,<2.22
      ansible_runner:
        package_pip: ansible-runner
      galaxy:
        collections:
          - name: collections/{tarball}
            type: file
    additional_build_files:
      - src: {tarball_path}
        dest: collections
    ''')


@pytest.fixture(scope='module')
def tarball(tmp_path_factory):
    dist = tmp_path_factory.mktemp('ee-dist')
    run_tool(['ansible-galaxy', 'collection', 'build', '--force', '--output-path', str(dist), REPO])
    found = glob.glob(str(dist / 'ipam-allocator-*.tar.gz'))
    assert len(found) == 1
    return found[0]


def test_collection_declares_its_dependencies():
    meta = yaml.safe_load(open(os.path.join(REPO, 'meta', 'execution-environment.yml'), encoding='utf-8'))
    assert meta['version'] == 1
    assert meta['dependencies'] == {'python': 'requirements.txt', 'system': 'bindep.txt'}
    for name in meta['dependencies'].values():
        assert os.path.isfile(os.path.join(REPO, name)), name


def test_build_context_and_what_the_build_installs(tarball, tmp_path):
    definition = tmp_path / 'execution-environment.yml'
    definition.write_text(DEFINITION.format(tarball=os.path.basename(tarball), tarball_path=tarball))
    context = tmp_path / 'context'
    run_tool([os.path.join(BIN, 'ansible-builder'), 'create', '-f', str(definition), '-c', str(context),
              '--output-filename', 'Containerfile'], cwd=str(tmp_path))

    containerfile = (context / 'Containerfile').read_text()
    assert 'ansible-galaxy collection install' in containerfile
    assert 'introspect.py introspect' in containerfile
    requirements = yaml.safe_load((context / '_build' / 'requirements.yml').read_text())
    assert requirements['collections'] == [{'name': 'collections/' + os.path.basename(tarball), 'type': 'file'}]
    assert (context / '_build' / 'collections' / os.path.basename(tarball)).is_file()

    # The build's introspection step, run here on the collection installed from the same tarball.
    installed = tmp_path / 'collections'
    env = tool_env(ANSIBLE_COLLECTIONS_PATH=str(installed))
    run_tool(['ansible-galaxy', 'collection', 'install', '--force', '--offline', '-p', str(installed), tarball], env=env)
    collection = installed / 'ansible_collections' / 'ipam' / 'allocator'
    for name in ('requirements.txt', 'bindep.txt', 'meta/execution-environment.yml'):
        assert (collection / name).is_file(), name
    python_out, system_out = tmp_path / 'pip.txt', tmp_path / 'bindep.txt'
    run_tool([sys.executable, str(context / '_build' / 'scripts' / 'introspect.py'), 'introspect',
              '--write-pip', str(python_out), '--write-bindep', str(system_out), str(installed)], env=env)
    wanted = [line.split('#')[0].strip() for line in open(os.path.join(REPO, 'requirements.txt'), encoding='utf-8')
              if line.split('#')[0].strip()]
    assert wanted == ['requests>=2.31,<3']
    assert [line.split('#')[0].strip() for line in python_out.read_text().splitlines() if line.strip()] == wanted
    assert 'ipam.allocator' in python_out.read_text()
    # No system package: introspect.py writes no bindep file at all, or an empty one.
    system = system_out.read_text() if system_out.exists() else ''
    assert not [line for line in system.splitlines() if line.strip() and not line.startswith('#')]
