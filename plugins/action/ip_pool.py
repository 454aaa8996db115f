# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from ansible_collections.ipam.allocator.plugins.module_utils._ipam.argspec import IP_POOL
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.runners import run_ip_pool
from ansible_collections.ipam.allocator.plugins.plugin_utils._action import IpamAction


class ActionModule(IpamAction):
    SPEC = IP_POOL
    RUNNER = run_ip_pool
