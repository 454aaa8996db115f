# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark helper, not part of the collection: the wall time of each task of a play, written as JSON.

A task's time runs from its start to the next task's start (or the end of the play), so it
holds everything ansible-core does for it: templating the arguments in the worker, the action,
and passing the result back to the main process and its callbacks.
"""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = '''
name: ipam_task_seconds
type: aggregate
short_description: Wall time of each task, to the file named by IPAM_TASK_SECONDS_FILE (benchmarks only)
description: [Wall time of each task, to the file named by IPAM_TASK_SECONDS_FILE (benchmarks only).]
'''


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'ipam_task_seconds'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._marks = []

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._marks.append((task.get_name(), time.perf_counter()))

    def v2_playbook_on_stats(self, stats):
        self._marks.append(('end', time.perf_counter()))
        seconds = {name: following - started for (name, started), (_next, following) in zip(self._marks, self._marks[1:])}
        with open(os.environ['IPAM_TASK_SECONDS_FILE'], 'w', encoding='utf-8') as handle:
            json.dump(seconds, handle)
