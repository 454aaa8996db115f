# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""The YAML and JSON stores: one document, rewritten atomically under the lock.

Readers never lock: a write is a rename of a complete, fsynced file, so a reader
sees the store as before or as after a change, never half of it.
"""

from __future__ import annotations

import errno
import os
import stat

from . import json_codec, yaml_codec
from ..core.errors import StoreError
from .locking import FileLock, file_access, group_name, path_access, user_name
from ..options import DEFAULT_LOCK_TIMEOUT
from ..core.state import DocumentState, damaged_store

try:
    import yaml
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core
    yaml = None
    _YAML_LOADER = None
else:
    _YAML_LOADER = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)


_UNREAD = object()


class Transaction:
    """Handed out by ``Store.writing()``: the state, and ``commit()`` to persist it."""

    def __init__(self, store, state):
        self.store = store
        self.state = state
        self.committed = False

    def commit(self):
        # The directory is synced once the lock is released (see _Locked.__exit__).
        self.store.persist(self.state, sync=False)
        self.committed = True


class StoreFile:
    """Shared behaviour of every file store: the real path, the lock beside it, the missing-file rules."""

    def __init__(self, path, lock_timeout=DEFAULT_LOCK_TIMEOUT):
        self.path = _real_file(path)
        self.lock_timeout = lock_timeout
        directory = os.path.dirname(self.path)
        try:
            is_directory = stat.S_ISDIR(os.stat(directory).st_mode)
        except (FileNotFoundError, NotADirectoryError):
            is_directory = False
        except PermissionError:
            is_directory = None
        if is_directory is None or (is_directory and os.geteuid() != 0 and not _may(directory, os.X_OK)):
            raise StoreError('Cannot reach the directory %s of store %s: %s needs search (x) permission on it and on every '
                             'directory above it' % (directory, path, user_name()))
        if not is_directory:
            raise StoreError('The directory of store %s does not exist: create %s first '
                             '(the store file itself is created on the first write)' % (path, directory))
        self.lock_path = self.path + '.lock'

    def lock(self):
        return FileLock(self.lock_path, self.lock_timeout, like=self.path)

    def unreadable(self, reason):
        """The error for a store this user may not read."""
        return StoreError('Cannot read store %s: %s. Reading needs read permission on the store file (it has %s; this runs '
                          'as %s)' % (self.path, reason, path_access(self.path), user_name()))

    def check_may_write(self, directory_access, directory_needs):
        """Refuse, naming the permission, a write this user may not make; root may make any.

        ``directory_access`` is what the directory must grant (``os.W_OK | os.X_OK``...), described
        by ``directory_needs``. A rename needs only the directory's permission, so without this check
        a user who may write the directory could replace a store file they may not write.
        """
        if os.geteuid() == 0:
            return
        if os.path.exists(self.path) and not _may(self.path, os.W_OK):
            raise StoreError('Cannot write store %s: %s may not write it (%s). Writing the store needs write permission '
                             'on the store file and on its directory; the store was left as it was.' % (
                                 self.path, user_name(), path_access(self.path)))
        directory = os.path.dirname(self.path)
        if not _may(directory, directory_access):
            raise StoreError('Cannot write store %s: %s may not write its directory %s (%s). Writing the store needs write '
                             'permission on its directory %s (%s); the store was left as it was.' % (
                                 self.path, user_name(), directory, path_access(directory), directory, directory_needs))


def _real_file(path):
    """``path`` made absolute, and resolved when it is a symbolic link: the file a write must replace.

    Resolved once, here: a link to the store and the store itself must share one lock (beside
    the real file), and a write must replace the real file, never the link.  Only a link as
    the last component needs it (one lstat, where a full realpath costs one per component):
    a linked directory leads the lock and the rename to the same real directory anyway.
    """
    path = os.path.abspath(path)
    try:
        is_link = stat.S_ISLNK(os.lstat(path).st_mode)
    except OSError:
        return path  # no file yet, or an unreachable directory: the checks that follow say which
    if not is_link:
        return path
    real = os.path.realpath(path)
    if os.path.islink(real):
        raise StoreError('Store %s is a symbolic link that leads back to itself: point it at the store file' % path)
    return real


def _may(path, access):
    """Whether this process's effective user and groups may ``access`` (``os.W_OK``...) ``path``."""
    if os.access in os.supports_effective_ids:
        return os.access(path, access, effective_ids=True)
    return os.access(path, access)  # pragma: no cover - Linux supports effective ids


class DocumentStore(StoreFile):
    """A store kept as one YAML or JSON document."""

    codec_name = None

    def decode(self, text):
        raise NotImplementedError

    def encode(self, data, known=None):
        """The document as text; ``known`` may carry the text of items read unchanged."""
        raise NotImplementedError

    def _read_bytes(self):
        """The file's bytes, or None when it does not exist."""
        try:
            with open(self.path, 'rb') as handle:
                return handle.read()
        except FileNotFoundError:
            return None
        except PermissionError as exc:
            raise self.unreadable(exc.strerror) from None
        except OSError as exc:
            raise StoreError('Cannot read store %s: %s' % (self.path, exc.strerror)) from None

    def load(self, raw=_UNREAD):
        """The store's state, from ``raw`` (its bytes as read already, None for no file) or read now."""
        if raw is _UNREAD:
            raw = self._read_bytes()
        if raw is None or not raw.strip():
            state = DocumentState(None, self.path)
        else:
            try:
                data = self.decode(raw.decode('utf-8'))
            except UnicodeDecodeError as exc:
                raise StoreError('Store %s is not UTF-8 text (%s); it was left untouched' % (self.path, exc)) from None
            state = DocumentState(data, self.path)
            state.known = getattr(data, 'known', None)
        state.raw = raw
        return state

    def reading(self):
        return _ReadOnly(self.load())

    def writing(self, snapshot=None):
        """Lock and read the store; ``snapshot`` (a state read earlier) is reused if the file still holds the same bytes.

        The bytes are compared, not the inode, size and mtime: a file system reuses a freed
        inode at once and mtime moves in clock ticks, so two writes in between could leave
        those as they were (reading the bytes again costs far less than parsing them).
        """
        return _Locked(self, snapshot)

    def persist(self, state, sync=True):
        """Write ``state``; durable on return unless ``sync`` is false (then call ``sync_directory``)."""
        self.check_may_write(os.R_OK | os.W_OK | os.X_OK, 'and read and search permission, to make the new file durable')
        atomic_write(self.path, self.encode(state.to_data(), state.known).encode('utf-8'))
        if sync:
            sync_directory(self.path)


class _ReadOnly:
    def __init__(self, state):
        self.state = state

    def __enter__(self):
        return self.state

    def __exit__(self, *exc_info):
        return False


class _Locked:
    def __init__(self, store, snapshot):
        self._store = store
        self._snapshot = snapshot
        self._lock = store.lock()
        self._transaction = None

    def __enter__(self):
        self._lock.__enter__()
        try:
            raw = self._store._read_bytes()
            snapshot = self._snapshot
            if snapshot is not None and snapshot.raw == raw:
                self._transaction = Transaction(self._store, snapshot)
            else:
                self._transaction = Transaction(self._store, self._store.load(raw))
            return self._transaction
        except BaseException:
            self._lock.__exit__(None, None, None)
            raise

    def __exit__(self, *exc_info):
        self._lock.__exit__(*exc_info)
        if self._transaction.committed:
            # The rename is made durable after the lock is released, so the next writer does
            # not wait for this fsync. The caller still returns only once it is durable; a
            # writer that read the new file before then writes it again with its own change
            # and syncs the same directory, so nothing acknowledged can be lost.
            sync_directory(self._store.path)
        return False


def atomic_write(path, payload):
    """Replace ``path`` by ``payload`` so that a crash leaves the old or the new file (``sync_directory`` makes it durable).

    The new file keeps the mode, group and (when this user may give it) owner of the
    file it replaces; see ``_keep_mode_and_owner``.  Only called under the store's lock.
    """
    try:
        current = os.stat(path)
    except FileNotFoundError:
        current = None
    except OSError as exc:
        raise StoreError('Cannot write store %s: %s' % (path, exc.strerror)) from None
    temporary, fd = _create_temporary(path)
    try:
        try:
            if current is not None:
                _keep_mode_and_owner(fd, path, current)
            view = memoryview(payload)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, path)
    except (OSError, StoreError) as exc:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        if isinstance(exc, StoreError):
            raise
        raise StoreError(_write_error(path, current, exc)) from None


_TEMPORARY_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW
_TEMPORARY_ATTEMPTS = 20


def _create_temporary(path):
    """A new temporary file beside ``path``, created exclusively: ``(its path, an open descriptor)``.

    ``O_EXCL``: whatever already sits at the name (a file or link another user put
    in a shared directory) is never opened or written through.  The usual name is
    ``.<store>.tmp``; only the holder of the store's lock writes it, so a file found
    there was left by a killed writer (or planted): it is removed when this user may,
    and otherwise a random name is used.  Mode 0666 less the umask, as any new file
    (``mkstemp`` would make a new store 0600).
    """
    directory, base = os.path.split(path)
    usual = os.path.join(directory, '.%s.tmp' % base)
    for attempt in range(_TEMPORARY_ATTEMPTS):
        name = usual if attempt < 2 else os.path.join(directory, '.%s.%s.tmp' % (base, os.urandom(6).hex()))
        try:
            return name, os.open(name, _TEMPORARY_FLAGS, 0o666)
        except FileExistsError:
            if attempt == 0:
                try:
                    os.unlink(usual)
                except OSError:
                    pass  # someone else's, in a sticky directory: leave it, take another name
        except OSError as exc:
            raise StoreError('Cannot write store %s: cannot create a file in its directory %s (%s). Writing the store needs '
                             'write permission on its directory %s; the store was left as it was.' % (
                                 path, directory, exc.strerror, directory)) from None
    raise StoreError('Cannot write store %s: %d names for a temporary file in %s were all taken; the store was left as '
                     'it was' % (path, _TEMPORARY_ATTEMPTS, directory))


def _keep_mode_and_owner(fd, path, current):
    """Give the new file (``fd``) the mode, group and owner of the store it replaces (``current``).

    Root keeps all three.  Any other user can give a file only to a group they are a
    member of and never to another user: the group must be kept, so a writer outside
    the store's group is refused; the owner becomes the writer when the writer is not
    the owner (a group-shared store: mode and group stay, so every member keeps the
    same access).  chown before chmod: a chown clears the setuid and setgid bits.
    """
    mode = stat.S_IMODE(current.st_mode)
    if os.geteuid() == 0:
        os.fchown(fd, current.st_uid, current.st_gid)
    elif os.fstat(fd).st_gid != current.st_gid:
        try:
            os.fchown(fd, -1, current.st_gid)
        except PermissionError:
            raise StoreError('Cannot write store %s: a write replaces the file, and %s is not a member of its group %s '
                             '(it has %s), so the new file could not keep that group. Write it as a member of that group '
                             "(or as root), or change the store's group; the store was left as it was." % (
                                 path, user_name(), group_name(current.st_gid), file_access(current))) from None
    os.fchmod(fd, mode)


def _write_error(path, current, exc):
    message = 'Cannot write store %s: %s' % (path, exc.strerror)
    directory = os.path.dirname(path)
    if exc.errno in (errno.EPERM, errno.EACCES) and current is not None and os.stat(directory).st_mode & stat.S_ISVTX:
        message += (' (its directory %s has the sticky bit, like /tmp: there only the store\'s owner, %s, the directory\'s '
                    'owner or root may replace it)' % (directory, user_name(current.st_uid)))
    return message + '; the store was left as it was'


def sync_directory(path):
    """Make the last rename into ``path``'s directory durable."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        directory_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise StoreError('Store %s was written, but its directory %s cannot be opened to make that durable (%s): writing '
                         'the store needs read permission on its directory' % (path, directory, exc.strerror)) from None
    try:
        os.fsync(directory_fd)
    finally:
        os.close(directory_fd)


class JsonStore(DocumentStore):
    codec_name = 'JSON'

    def decode(self, text):
        try:
            return json_codec.load(text)
        except json_codec.RefusedText as exc:
            raise damaged_store(self.path, exc) from None
        except ValueError as exc:
            raise StoreError('Store %s is not valid JSON (%s); it was left untouched' % (self.path, exc)) from None

    def encode(self, data, known=None):
        return json_codec.dump(data, known)


class YamlStore(DocumentStore):
    codec_name = 'YAML'

    def decode(self, text):
        if yaml is None:
            raise StoreError('PyYAML is needed to read %s' % self.path)
        try:
            return yaml_codec.load(text, _YAML_LOADER)
        except yaml_codec.RefusedText as exc:
            raise damaged_store(self.path, exc) from None
        except yaml.YAMLError as exc:
            raise StoreError('Store %s is not valid YAML for ipam.allocator (%s); it was left untouched. '
                             'Only plain YAML is accepted: no tags such as !!python/object.' % (
                                 self.path, ' '.join(str(exc).split()))) from None

    def encode(self, data, known=None):
        return yaml_codec.dump(data, known)
