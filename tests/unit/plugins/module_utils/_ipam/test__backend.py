# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""backend.py: what every backend object keeps of its options."""

from __future__ import annotations

import pytest

from ansible_collections.ipam.allocator.plugins.module_utils._ipam.registry import load_backend
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.remote.http import HttpClient

TOKEN = '0123456789abcdef0123456789abcdef01234567'


def _holders(value, path, seen):
    """Paths of the attributes below ``value`` whose repr shows the token, not looking into the HTTP client."""
    if id(value) in seen or isinstance(value, HttpClient):
        return []
    seen.add(id(value))
    found = [path] if TOKEN in repr(value) else []
    attributes = getattr(value, '__dict__', None)
    if isinstance(value, dict):
        attributes = value
    for key, item in (attributes or {}).items():
        found += _holders(item, '%s.%s' % (path, key), seen)
    return found


@pytest.mark.parametrize('name', ['netbox', 'nautobot'])
def test_a_remote_backend_keeps_the_token_in_its_http_session_only(name):
    given = {'backend': name, 'url': 'https://ipam.example.com', 'token': TOKEN, 'timeout': 5}
    backend = load_backend(given)
    assert 'token' not in backend.options
    assert backend.options['url'] == 'https://ipam.example.com' and backend.options['timeout'] == 5
    assert _holders(backend, 'backend', set()) == []
    # The HTTP session is where it lives, and the caller's options are left as they were.
    assert TOKEN in backend.http._session.headers['Authorization']
    assert given['token'] == TOKEN


def test_the_file_backend_keeps_its_other_options(tmp_path):
    backend = load_backend({'store': str(tmp_path / 'store.yml'), 'lock_timeout': 5, 'token': TOKEN})
    assert backend.options['store'] == str(tmp_path / 'store.yml') and backend.options['lock_timeout'] == 5
    assert 'token' not in backend.options
