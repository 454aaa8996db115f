# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""ansible-test sanity (every test that runs without containers) and the integration targets."""

from __future__ import annotations

import os

import pytest

from .conftest import REPO, copy_collection, run_tool

TARGETS = sorted(
    name for name in os.listdir(os.path.join(REPO, 'tests', 'integration', 'targets'))
    if 'hidden' not in open(os.path.join(REPO, 'tests', 'integration', 'targets', name, 'aliases'), encoding='utf-8').read().split()
)


@pytest.fixture(scope='module')
def integration_copy(ansible_test_ready):
    return copy_collection('ansible-test-integration')


@pytest.mark.slow
def test_sanity(ansible_test_ready):
    copy = copy_collection('ansible-test-sanity')
    run_tool(['ansible-test', 'sanity', '--venv', '--python', '3.11', '--color', 'no'], cwd=copy)


@pytest.mark.parametrize('target', TARGETS)
def test_integration(integration_copy, target):
    run_tool(['ansible-test', 'integration', target, '--local', '--python', '3.11', '--color', 'no'], cwd=integration_copy)
