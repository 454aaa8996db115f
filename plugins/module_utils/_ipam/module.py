# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""``main()`` of every module, for the rare run without its action plugin.

The one place an ``IpamError`` becomes ``fail_json``.
"""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule

from .core.errors import IpamError
from .runners import run


def run_module(spec, runner):
    module = AnsibleModule(supports_check_mode=True, **spec)
    try:
        result, _predicted = run(runner, module.params, module.check_mode)
    except IpamError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)
