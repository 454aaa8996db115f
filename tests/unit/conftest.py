# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Make ``ansible_collections.ipam.allocator`` importable when pytest runs from a plain checkout.

Under ansible-test the collection already sits at .../ansible_collections/ipam/allocator;
from a checkout elsewhere, a symlink tree under build/ gives it that name.
"""

from __future__ import annotations

import os
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if not _ROOT.endswith(os.path.join('ansible_collections', 'ipam', 'allocator')):
    _TREE = os.path.join(_ROOT, 'build', 'collections')
    _LINK = os.path.join(_TREE, 'ansible_collections', 'ipam', 'allocator')
    if not os.path.islink(_LINK):
        os.makedirs(os.path.dirname(_LINK), exist_ok=True)
        os.symlink(_ROOT, _LINK)
    if _TREE not in sys.path:
        sys.path.insert(0, _TREE)
