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

import os

from . import json_codec, yaml_codec
from .errors import StoreError
from .locking import FileLock
from .state import DocumentState

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


class Store:
    """Shared behaviour of every file store: the lock beside the file, the missing-file rules."""

    def __init__(self, path, lock_timeout=60):
        self.path = path
        self.lock_timeout = lock_timeout
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            raise StoreError('The directory of store %s does not exist: create %s first '
                             '(the store file itself is created on the first write)' % (path, directory))
        self.lock_path = path + '.lock'

    def lock(self):
        return FileLock(self.lock_path, self.lock_timeout)


class DocumentStore(Store):
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

    Only called under the store's lock, so one fixed temporary name is safe, and
    a temporary left by a killed writer is simply overwritten.
    """
    directory = os.path.dirname(os.path.abspath(path))
    temporary = os.path.join(directory, '.%s.tmp' % os.path.basename(path))
    try:
        current = os.stat(path)
    except FileNotFoundError:
        current = None
    except OSError as exc:
        raise StoreError('Cannot write store %s: %s' % (path, exc.strerror)) from None
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC | os.O_NOFOLLOW, 0o666)
        try:
            if current is not None:
                os.fchmod(fd, current.st_mode & 0o7777)
                if os.geteuid() == 0:
                    os.fchown(fd, current.st_uid, current.st_gid)
            view = memoryview(payload)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, path)
    except OSError as exc:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise StoreError('Cannot write store %s: %s; the store was left as it was' % (path, exc.strerror)) from None


def sync_directory(path):
    """Make the last rename into ``path``'s directory durable."""
    directory_fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(directory_fd)
    finally:
        os.close(directory_fd)


class JsonStore(DocumentStore):
    codec_name = 'JSON'

    def decode(self, text):
        try:
            return json_codec.load(text)
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
        except yaml.YAMLError as exc:
            raise StoreError('Store %s is not valid YAML for ipam.allocator (%s); it was left untouched. '
                             'Only plain YAML is accepted: no tags such as !!python/object.' % (
                                 self.path, ' '.join(str(exc).split()))) from None

    def encode(self, data, known=None):
        return yaml_codec.dump(data, known)
