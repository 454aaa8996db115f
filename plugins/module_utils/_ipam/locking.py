# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""The inter-process lock that serialises every write to a file store.

``flock`` on a lock file beside the store: the kernel drops it when its holder
dies, even by SIGKILL, so a killed writer never blocks the others.  The holder
writes who it is into the lock file, so a timeout can say what holds the lock.
"""

from __future__ import annotations

import errno
import fcntl
import os
import socket
import time

from .errors import StoreError, StoreLockTimeoutError

_IDENTITY = (None, None)
_STAMP_WIDTH = 256


def _identity():
    """Who this process is, for a lock timeout message; recomputed after a fork."""
    global _IDENTITY
    if _IDENTITY[0] != os.getpid():
        try:
            with open('/proc/self/cmdline', 'rb') as handle:
                argv = handle.read().split(b'\0')
            command = ' '.join(os.path.basename(part.decode('utf-8', 'replace')) for part in argv[:3] if part)
        except OSError:
            command = 'unknown command'
        _IDENTITY = (os.getpid(), 'pid %d on %s (%s)' % (os.getpid(), socket.gethostname(), command[:120]))
    return _IDENTITY[1]


class FileLock:
    """``with FileLock(path, timeout):`` holds an exclusive lock on ``path``."""

    def __init__(self, path, timeout):
        self.path = path
        self.timeout = timeout
        self._fd = None

    def __enter__(self):
        try:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o644)
        except OSError as exc:
            raise StoreError('Cannot open the lock file %s: %s' % (self.path, exc.strerror)) from None
        deadline = time.monotonic() + max(self.timeout, 0)
        pause = 0.0002
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    self._close()
                    raise StoreError('Cannot lock %s: %s' % (self.path, exc.strerror)) from None
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                holder = self._holder()
                self._close()
                raise StoreLockTimeoutError(
                    'Timed out after %ss waiting for the lock %s, held by %s. '
                    'Wait for it to finish, or raise lock_timeout.' % (self.timeout, self.path, holder))
            time.sleep(min(pause, remaining))
            pause = min(pause * 1.5, 0.002)
        # Overwritten in place at a fixed width, never truncated: a truncate is a journalled
        # metadata change that waits behind other writers' fsyncs, inside the critical section.
        stamp = ('%s since %s' % (_identity(), time.strftime('%Y-%m-%dT%H:%M:%S%z'))).encode('utf-8')[:_STAMP_WIDTH - 1]
        try:
            os.pwrite(self._fd, stamp.ljust(_STAMP_WIDTH - 1) + b'\n', 0)
        except OSError as exc:
            self._close()
            raise StoreError('Cannot write the lock file %s: %s' % (self.path, exc.strerror)) from None
        return self

    def _holder(self):
        try:
            text = os.pread(self._fd, _STAMP_WIDTH, 0).decode('utf-8', 'replace').strip()
        except OSError:
            text = ''
        return text or 'another process (it has not said who it is yet)'

    def _close(self):
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __exit__(self, *exc_info):
        # Closing the descriptor releases the flock.
        self._close()
        return False
