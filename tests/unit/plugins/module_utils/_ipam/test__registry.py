# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""registry.load_backend: built-in names, third-party backends from the entry-point group, clear errors."""

from __future__ import annotations

import sys
import textwrap

import pytest

from ansible_collections.ipam.allocator.plugins.module_utils._ipam.backend import Backend
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.registry import load_backend
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.filestore.backend_file import FileBackend
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.core.errors import BackendError


@pytest.fixture
def installed_plugin(tmp_path, monkeypatch):
    """A real distribution on sys.path that registers backend 'memo' in the entry-point group."""
    (tmp_path / 'memo_backend.py').write_text(textwrap.dedent('''
        from ansible_collections.ipam.allocator.plugins.module_utils._ipam.filestore.backend_file import FileBackend

        class MemoBackend(FileBackend):
            name = 'memo'

        class NotABackend:
            pass
    '''))
    dist = tmp_path / 'memo_backend-1.0.dist-info'
    dist.mkdir()
    (dist / 'METADATA').write_text('Metadata-Version: 2.1\nName: memo-backend\nVersion: 1.0\n')
    (dist / 'entry_points.txt').write_text('[ipam_allocator.backends]\nmemo = memo_backend:MemoBackend\n'
                                           'broken = memo_backend:NotABackend\nmissing = no_such_module:Thing\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    sys.modules.pop('memo_backend', None)


def test_builtin_file_backend_is_the_default(tmp_path):
    assert isinstance(load_backend({'store': str(tmp_path / 's.yml')}), FileBackend)


def test_third_party_backend_from_entry_point(installed_plugin, tmp_path):
    backend = load_backend({'backend': 'memo', 'store': str(tmp_path / 's.yml')})
    assert isinstance(backend, Backend) and backend.name == 'memo'
    backend.ensure_pool({'name': 'lab', 'cidr': '10.0.0.0/24'})
    assert backend.allocate('lab', 'a').after['address'] == '10.0.0.1'


def test_bad_third_party_entries_fail_clearly(installed_plugin, tmp_path):
    with pytest.raises(BackendError, match='not a subclass of Backend'):
        load_backend({'backend': 'broken', 'store': str(tmp_path / 's.yml')})
    with pytest.raises(BackendError, match="Backend 'missing' .* cannot be imported"):
        load_backend({'backend': 'missing', 'store': str(tmp_path / 's.yml')})


def test_unknown_backend_lists_the_known_ones(installed_plugin):
    with pytest.raises(BackendError, match="Unknown backend 'nope': choose one of .*file.*memo.*nautobot.*netbox"):
        load_backend({'backend': 'nope'})


def test_file_backend_needs_a_store():
    with pytest.raises(BackendError, match='needs a store path'):
        load_backend({'backend': 'file'})
