# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.ipam.allocator.plugins.module_utils._ipam.registry import load_backend

FORMATS = ('yml', 'json', 'sqlite')


@pytest.fixture(params=FORMATS)
def store_path(request, tmp_path):
    """A fresh store path of each format."""
    return str(tmp_path / ('store.' + request.param))


@pytest.fixture
def backend(store_path):
    return load_backend({'store': store_path})
