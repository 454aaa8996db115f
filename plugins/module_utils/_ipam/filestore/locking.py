# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""The inter-process lock that serialises every write to a file store.

``flock`` on a lock file beside the store: the kernel drops it when its holder
dies, even by SIGKILL, so a killed writer never blocks the others.  The holder
writes who it is (program name, pid, host, time: never its arguments, which may
hold secrets) into the lock file, so a timeout can say what holds the lock and
whether that process still runs.

Everyone who writes the store must be able to open the lock file for writing, so
the lock file follows the store's mode and group (see ``FileLock.__enter__``).
"""

from __future__ import annotations

import datetime
import errno
import fcntl
import os
import re
import socket
import stat
import sys
import time

from ..core.errors import StoreError, StoreLockTimeoutError

_IDENTITY = (None, None)
_STAMP_WIDTH = 256
_STAMP = re.compile(r'pid (\d+) on (\S+) \((\S*)[^)]*\) since (\S+)')
_STAMP_TIME = '%Y-%m-%dT%H:%M:%S%z'


def _program_name():
    """The running program's file name: never its arguments, which may carry --extra-vars secrets."""
    argv = getattr(sys, 'argv', None) or ['']
    program = os.path.basename(argv[0]) if argv[0] not in ('', '-c', '-m') else ''
    program = program or os.path.basename(sys.executable or '') or 'python'
    return re.sub(r'[^\w.+-]', '_', program)[:64]


def _identity():
    """Who this process is, for a lock timeout message; recomputed after a fork."""
    global _IDENTITY
    if _IDENTITY[0] != os.getpid():
        _IDENTITY = (os.getpid(), 'pid %d on %s (%s)' % (os.getpid(), socket.gethostname(), _program_name()))
    return _IDENTITY[1]


def user_name(uid=None):
    """``alice``, or ``uid 1234`` when the id has no account: the effective user unless ``uid`` is given."""
    import pwd
    uid = os.geteuid() if uid is None else uid
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return 'uid %d' % uid


def group_name(gid):
    import grp
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def file_access(status):
    """``owner alice, group staff, mode 0644`` for an ``os.stat`` result, for messages about permissions."""
    return 'owner %s, group %s, mode %04o' % (user_name(status.st_uid), group_name(status.st_gid), stat.S_IMODE(status.st_mode))


def path_access(path):
    """``file_access`` of the file at ``path``, or why it cannot be read."""
    try:
        return file_access(os.stat(path))
    except OSError as exc:
        return exc.strerror


def _process_start(pid):
    """When process ``pid`` started (seconds since the epoch), None if unknown; False if it is gone or a zombie."""
    try:
        with open('/proc/%d/stat' % pid, 'rb') as handle:
            fields = handle.read().rsplit(b')', 1)[1].split()  # after "pid (command)", which may hold spaces
        state, start_ticks = fields[0], int(fields[19])
        with open('/proc/stat', 'rb') as handle:
            boot = next(int(line.split()[1]) for line in handle if line.startswith(b'btime '))
    except FileNotFoundError:
        return False
    except (OSError, IndexError, StopIteration, ValueError):
        return None
    if state in (b'Z', b'X'):
        return False
    return boot + start_ticks / os.sysconf('SC_CLK_TCK')


def _still_runs(pid, since):
    """Whether the process that wrote a stamp at ``since`` (epoch seconds or None) is still running."""
    if pid <= 0:
        return False  # not a process of its own (0 and negatives name process groups)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, as another user
    started = _process_start(pid)
    if started is False:
        return False
    # A process that started after the stamp was written only reuses the pid (the stamp has whole seconds).
    return started is None or since is None or started <= since + 2


class FileLock:
    """``with FileLock(path, timeout, like=store):`` holds an exclusive lock on ``path``.

    ``like`` is the store the lock guards: the lock file takes its mode (without
    execute bits) and group, so that whoever may write the store may take its lock.
    """

    def __init__(self, path, timeout, like=None):
        self.path = path
        self.timeout = timeout
        self.like = like
        self._fd = None

    def __enter__(self):
        self._open()
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
                raise StoreLockTimeoutError('Timed out after %ss waiting for the lock %s, %s. Wait for it to finish, '
                                            'or raise lock_timeout.' % (self.timeout, self.path, holder))
            time.sleep(min(pause, remaining))
            pause = min(pause * 1.5, 0.002)
        # Overwritten in place at a fixed width, never truncated: a truncate is a journalled
        # metadata change that waits behind other writers' fsyncs, inside the critical section.
        stamp = ('%s since %s' % (_identity(), time.strftime(_STAMP_TIME))).encode('utf-8')[:_STAMP_WIDTH - 1]
        try:
            os.pwrite(self._fd, stamp.ljust(_STAMP_WIDTH - 1) + b'\n', 0)
        except OSError as exc:
            self._close()
            raise StoreError('Cannot write the lock file %s: %s' % (self.path, exc.strerror)) from None
        return self

    def _open(self):
        """Open (or create) the lock file with the store's mode and group; done before the lock is taken."""
        store = None
        if self.like is not None:
            try:
                store = os.stat(self.like)
            except OSError:
                store = None  # no store yet: the lock file is created as the store will be (0666 less the umask)
        mode = 0o666 if store is None else stat.S_IMODE(store.st_mode) & 0o666
        try:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, mode)
        except OSError as exc:
            raise StoreError(self._open_error(exc)) from None
        if store is None:
            return
        current = os.fstat(self._fd)
        # The umask narrowed a new lock file, or an older version made it 0644, or root made it: bring
        # it in line when this user may (root gives it the store's owner too; its owner can set group
        # and mode). Best effort: a lock file that stays narrower only fails other users, with a
        # message that says what to change.
        root = os.geteuid() == 0
        if root or current.st_uid == os.geteuid():
            try:
                if (current.st_uid, current.st_gid) != (store.st_uid if root else current.st_uid, store.st_gid):
                    os.fchown(self._fd, store.st_uid if root else -1, store.st_gid)
                if stat.S_IMODE(current.st_mode) != mode:
                    os.fchmod(self._fd, mode)
            except OSError:
                pass

    def _open_error(self, exc):
        if exc.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
            return 'Cannot open the lock file %s: %s' % (self.path, exc.strerror)
        if os.path.lexists(self.path):
            return ('Cannot open the lock file %s for writing: %s (it has %s; this runs as %s). Every user who writes '
                    'the store needs read and write permission on its lock file, which follows the store (%s): give it '
                    "the store's group and mode (chgrp, chmod)." % (
                        self.path, exc.strerror, path_access(self.path), user_name(),
                        path_access(self.like) if self.like else 'no store given'))
        directory = os.path.dirname(os.path.abspath(self.path))
        return ('Cannot create the lock file %s: %s. Writing the store needs write permission on its directory %s '
                '(%s; this runs as %s).' % (self.path, exc.strerror, directory, path_access(directory), user_name()))

    def _holder(self):
        """Who holds the lock, as far as the stamp of the last holder tells, and whether that process still runs."""
        try:
            text = os.pread(self._fd, _STAMP_WIDTH, 0).decode('utf-8', 'replace').strip()
        except OSError:
            text = ''
        match = _STAMP.match(text)
        if match is None:
            return 'held by another process (it has not said who it is yet)'
        pid, host, program, since = int(match.group(1)), match.group(2), match.group(3), match.group(4)
        holder = 'pid %d on %s (%s) since %s' % (pid, host, program, since)
        if host != socket.gethostname():
            return 'held by %s, another machine: whether it still runs cannot be checked from here' % holder
        try:
            since_epoch = datetime.datetime.strptime(since, _STAMP_TIME).timestamp()
        except ValueError:
            since_epoch = None
        if _still_runs(pid, since_epoch):
            return 'held by %s, which is still running' % holder
        return ('which was last taken by %s, which is no longer running: the lock is held by a process that has just '
                'taken it, or by a child of pid %d that inherited it (fuser -v %s lists the processes that have it open)' % (
                    holder, pid, self.path))

    def _close(self):
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __exit__(self, *exc_info):
        # Closing the descriptor releases the flock.
        self._close()
        return False
