# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Documentation renders, linters pass, and the built tarball installs and works."""

from __future__ import annotations

import glob
import os

import pytest

from .conftest import BUILD, REPO, run_tool, tool_env

PLUGIN_DIRS = {'modules': 'module', 'lookup': 'lookup', 'inventory': 'inventory'}
PLUGINS = sorted(
    (plugin_type, os.path.splitext(os.path.basename(path))[0])
    for directory, plugin_type in PLUGIN_DIRS.items()
    for path in glob.glob(os.path.join(REPO, 'plugins', directory, '*.py'))
    if not os.path.basename(path).startswith('_')
)


@pytest.mark.parametrize('plugin_type, name', PLUGINS, ids=['%s/%s' % item for item in PLUGINS])
def test_ansible_doc_renders_with_examples(plugin_type, name):
    rendered = run_tool(['ansible-doc', '-t', plugin_type, 'ipam.allocator.%s' % name]).stdout
    assert 'EXAMPLES' in rendered and 'ERROR' not in rendered


def test_antsibull_docs_lint():
    run_tool(['antsibull-docs', 'lint-collection-docs', '--plugin-docs', '--validate-collection-refs=all', '.'])


def test_changelog_lint():
    run_tool(['antsibull-changelog', 'lint'])


def test_ansible_lint_production_profile():
    run_tool(['ansible-lint', '--profile', 'production', '--offline'])


def test_built_tarball_installs_and_runs(tmp_path):
    run_tool(['ansible-galaxy', 'collection', 'build', '--force', '--output-path', str(tmp_path / 'dist'), REPO])
    tarballs = glob.glob(str(tmp_path / 'dist' / 'ipam-allocator-*.tar.gz'))
    assert len(tarballs) == 1
    installed = tmp_path / 'collections'
    env = tool_env(ANSIBLE_COLLECTIONS_PATH=str(installed))
    run_tool(['ansible-galaxy', 'collection', 'install', '--force', '--offline', '-p', str(installed), tarballs[0]], env=env)
    assert (installed / 'ansible_collections' / 'ipam' / 'allocator' / 'MANIFEST.json').is_file()
    assert 'ipam.allocator.ip_address' in run_tool(['ansible-doc', '-t', 'module', 'ipam.allocator.ip_address'], env=env).stdout
    members = run_tool(['tar', '-tzf', tarballs[0]]).stdout.split()
    assert not [name for name in members if name.startswith(('tests/output', '.ansible/', 'build/', '.venv', '.hypothesis'))]
    store = tmp_path / 'store.yml'
    result = run_tool(['ansible', 'localhost', '-m', 'ipam.allocator.ip_pool', '-a',
                       'store=%s name=lab cidr=10.0.0.0/24' % store], env=env)
    assert 'CHANGED' in result.stdout
    assert os.path.isfile(store)
    assert BUILD not in str(installed)


def test_docs_site_builds_without_warnings():
    """`make docs`: antsibull-docs' pages for every plugin and role, and the guides of docs/*.md, with Sphinx's -W."""
    run_tool(['make', '--no-print-directory', 'docs'], timeout=1800)
    site = os.path.join(BUILD, 'docsite')
    assert open(os.path.join(site, 'warnings.log'), encoding='utf-8').read() == ''
    html = os.path.join(site, 'html')
    pages = {os.path.relpath(path, html) for path in glob.glob(os.path.join(html, '**', '*.html'), recursive=True)}
    plugins = {'%s_%s.html' % (name, plugin_type) for plugin_type, name in PLUGINS}
    assert plugins <= pages
    assert {'allocate_role.html', 'network_config_role.html'} <= pages
    guides = {'docsite/%s.html' % os.path.basename(path)[:-3] for path in glob.glob(os.path.join(REPO, 'docs', '*.md'))}
    assert guides <= pages and 'docsite/awx.html' in guides
    # The README links to the site and to the AWX guide.
    readme = open(os.path.join(REPO, 'README.md'), encoding='utf-8').read()
    assert 'make docs' in readme and 'docs/awx.md' in readme
