# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""Where check-mode predictions travel from one task to the next: a file that lives and dies with the run.

ansible-core gives every ``ansible-playbook`` process a private directory of its own
(``C.DEFAULT_LOCAL_TMP``, ``ansible-local-<pid><random>`` under ``local_tmp``,
mode 0700), made when the process starts and deleted when it exits.  The forked
workers that run tasks and lookups inherit its path.  Predictions are appended to
one file in it, so every host's later check-mode tasks and lookups in the same run
see them, and no later run can: a new run has a new directory, whatever fact
cache is configured (facts, unlike this file, would outlive the run: ansible-core
honours ``_ansible_facts_cacheable`` for ``set_fact`` only).

A check-mode task that may change something holds the file's exclusive lock from
reading the predictions to adding its own, so hosts running in parallel predict
one after the other and never the same new address twice, as their real run
allocates one after the other under the store's lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os

from ansible import constants as C

LOG_NAME = 'ipam_allocator_predictions.jsonl'


def run_directory():
    """This run's private temporary directory, or None when ansible-core does not provide one."""
    directory = getattr(C, 'DEFAULT_LOCAL_TMP', None)
    if isinstance(directory, str) and os.path.isdir(directory):
        return directory
    return None


class PredictionLog:
    """The predictions read from the log, and ``add()`` for this task's own (one JSON document per line)."""

    def __init__(self, fd=None):
        self._fd = fd
        self._ends_line = True
        self.pending = self._read() if fd is not None else []

    def _read(self):
        chunks = []
        offset = 0
        while True:
            chunk = os.pread(self._fd, 1 << 20, offset)
            if not chunk:
                break
            chunks.append(chunk)
            offset += len(chunk)
        data = b''.join(chunks)
        self._ends_line = not data or data.endswith(b'\n')
        pending = []
        for line in data.split(b'\n'):
            try:
                pending.append(json.loads(line))
            except ValueError:
                continue    # empty, or the half line of a worker killed while writing: nothing was predicted by it
        return pending

    def add(self, predicted):
        if self._fd is None or not predicted:
            return
        payload = ''.join(json.dumps(step, separators=(',', ':')) + '\n' for step in predicted).encode('utf-8')
        if not self._ends_line:
            payload = b'\n' + payload
        view = memoryview(payload)
        while view:
            view = view[os.write(self._fd, view):]


@contextlib.contextmanager
def predictions(check_mode, changing=True, directory=None):
    """``with predictions(check_mode) as log:`` ``log.pending`` to replay, ``log.add(...)`` to pass on.

    Outside check mode there is nothing to replay or pass on.  ``changing`` takes the
    lock exclusively for the whole task; a reader shares it.
    """
    directory = directory or (run_directory() if check_mode else None)
    if directory is None:
        yield PredictionLog()
        return
    fd = os.open(os.path.join(directory, LOG_NAME), os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if changing else fcntl.LOCK_SH)
        yield PredictionLog(fd)
    finally:
        os.close(fd)
