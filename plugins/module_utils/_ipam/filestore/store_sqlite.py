# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""The SQLite store, for stores too large to rewrite on every change.

It persists not only the records but the merged occupied intervals of each
pool, indexed by their start, so finding the lowest free address, taking it and
giving it back are each a few index lookups: the cost per allocation does not
grow with the number of records.  Addresses are 16-byte big-endian BLOBs, which
SQLite compares like the integers they are (IPv4 and IPv6 alike).
"""

from __future__ import annotations

import json
import os
import sqlite3

from ..core.errors import InvalidInputError, StoreError
from ..core.intervals import IntervalSet
from .locking import path_access, user_name
from ..core.model import ADDRESS, PoolSettings, Record
from ..core.state import STORE_VERSION, PoolSpace, StoreState, damaged_store
from .store_document import StoreFile

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS pools (name TEXT PRIMARY KEY, settings TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    pool TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,
    first BLOB NOT NULL, last BLOB NOT NULL, text TEXT NOT NULL,
    description TEXT, dns_name TEXT,
    PRIMARY KEY (pool, kind, name)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS records_by_first ON records (pool, first);
CREATE TABLE IF NOT EXISTS occupied (
    pool TEXT NOT NULL, first BLOB NOT NULL, last BLOB NOT NULL,
    PRIMARY KEY (pool, first)
) WITHOUT ROWID;
"""


def _key(value):
    return value.to_bytes(16, 'big')


def _int(blob):
    return int.from_bytes(blob, 'big')


class SqliteStore(StoreFile):
    codec_name = 'SQLite'

    def _connect(self, read_only):
        if read_only and not os.path.exists(self.path):
            return None
        # Readers open read-write but only SELECT: a reader may have to roll back
        # the hot journal of a writer that was killed, which a read-only handle cannot.
        # (SQLite opens a file this user may only read read-only, by itself.)
        if not read_only:
            self._create_file()
        try:
            connection = sqlite3.connect(self.path, isolation_level=None, timeout=self.lock_timeout)
        except sqlite3.Error as exc:
            raise self._access_error(exc, 'Cannot open store %s: %s; it was left untouched' % (self.path, exc)) from None
        try:
            connection.execute('PRAGMA synchronous = FULL')
            connection.execute('PRAGMA journal_mode = DELETE')
        except sqlite3.DatabaseError as exc:
            connection.close()
            raise self._access_error(exc, 'Store %s is not a usable SQLite database (%s); it was left untouched'
                                     % (self.path, exc)) from None
        return connection

    def _create_file(self):
        """Create a missing store file as any new file is made (0666 less the umask; SQLite would make it 0644).

        An empty file is an empty SQLite database, so this is what SQLite would create, with
        the mode a group-shared store (umask 002) needs.
        """
        try:
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW, 0o666))
        except FileExistsError:
            pass
        except OSError as exc:
            raise StoreError('Cannot create store %s: %s. Creating the store needs write permission on its directory %s'
                             % (self.path, exc.strerror, os.path.dirname(self.path))) from None

    def _access_error(self, exc, otherwise):
        """The error for ``exc``: a permission this user lacks, named, when that is the cause; else ``otherwise``."""
        if os.path.exists(self.path) and not os.access(self.path, os.R_OK):
            return self.unreadable(str(exc))
        return StoreError(otherwise)

    def write_error(self, exc):
        """The error for a write that SQLite refused, naming the permission when that was the cause."""
        message = 'Cannot write store %s: %s' % (self.path, exc)
        if 'readonly' in str(exc) or 'unable to open' in str(exc):
            message += ('. Writing an SQLite store needs write permission on the store file and on its directory (for its '
                        'journal): it has %s, its directory %s has %s; this runs as %s' % (
                            path_access(self.path), os.path.dirname(self.path), path_access(os.path.dirname(self.path)),
                            user_name()))
        return StoreError(message + '; the store was left as it was')

    def reading(self):
        return _SqliteSession(self, write=False)

    def writing(self, snapshot=None):
        # Queries are cheap and indexed: the transaction always reads afresh.
        return _SqliteSession(self, write=True)


class _SqliteSession:
    def __init__(self, store, write):
        self._store = store
        self._write = write
        self._lock = store.lock() if write else None
        self._connection = None
        self.state = None
        self.committed = False

    def __enter__(self):
        if self._lock is not None:
            self._lock.__enter__()
        try:
            if self._write:
                # SQLite writes in place, so the file keeps its owner, group and mode (its journal takes
                # the file's mode); this only names the permission a write lacks before SQLite says "readonly".
                self._store.check_may_write(os.W_OK | os.X_OK, 'and search permission, for its journal')
            self._connection = self._store._connect(read_only=not self._write)
            self.state = SqliteState(self._connection, self._store.path, create=self._write)
        except sqlite3.Error as exc:
            self._close()
            if self._write:
                raise self._store.write_error(exc) from None
            raise StoreError('Cannot open store %s: %s; it was left untouched' % (self._store.path, exc)) from None
        except BaseException:
            self._close()
            raise
        return self if self._write else self.state

    def commit(self):
        try:
            self._connection.execute('COMMIT')
        except sqlite3.Error as exc:
            raise self._store.write_error(exc) from None
        self.committed = True

    def _close(self):
        if self._connection is not None:
            if self._connection.in_transaction:
                self._connection.execute('ROLLBACK')
            self._connection.close()
            self._connection = None
        if self._lock is not None:
            self._lock.__exit__(None, None, None)
            self._lock = None

    def __exit__(self, exc_type, exc, traceback):
        self._close()
        if isinstance(exc, sqlite3.Error):
            # Raised by a query inside the session: name the store, never a bare SQLite message.
            if self._write:
                raise self._store.write_error(exc) from None
            raise StoreError('Cannot read store %s: %s' % (self._store.path, exc)) from None
        return False


class SqliteState(StoreState):
    def __init__(self, connection, origin, create):
        self._db = connection
        self._origin = origin
        self._spaces = {}
        if connection is None:
            return
        try:
            connection.execute('BEGIN IMMEDIATE' if create else 'BEGIN')
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if 'meta' not in tables:
                if tables:
                    raise StoreError('Store %s is an SQLite database of something else (tables: %s); it was left untouched'
                                     % (origin, ', '.join(sorted(tables))))
                if not create:
                    self._db = None
                    return
                # executescript() would COMMIT first: run the statements one by one.
                for statement in _SCHEMA.split(';'):
                    if statement.strip():
                        connection.execute(statement)
                connection.execute("INSERT INTO meta VALUES ('version', ?)", (str(STORE_VERSION),))
            row = connection.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
        except sqlite3.OperationalError:
            raise  # readonly, locked, I/O: the session names the store and the permission
        except sqlite3.DatabaseError as exc:
            raise StoreError('Store %s is not a usable SQLite database (%s); it was left untouched' % (origin, exc)) from None
        if row is None or row[0] != str(STORE_VERSION):
            raise StoreError('Store %s has version %r; this ipam.allocator understands version %d only. '
                             'It was left untouched.' % (origin, row and row[0], STORE_VERSION))

    def pool_names(self):
        if self._db is None:
            return []
        return [row[0] for row in self._db.execute('SELECT name FROM pools ORDER BY name')]

    def space(self, name):
        space = self._spaces.get(name)
        if space is None:
            row = None
            if self._db is not None:
                row = self._db.execute('SELECT settings FROM pools WHERE name = ?', (name,)).fetchone()
            if row is None:
                raise self.missing_pool(name)
            try:
                settings = PoolSettings.from_doc(name, json.loads(row[0]))
            except (ValueError, InvalidInputError) as exc:
                raise damaged_store(self._origin, exc) from None
            space = self._spaces[name] = SqlitePoolSpace(self._db, settings)
        return space

    def put_pool(self, settings):
        existing = self._spaces.get(settings.name)
        if existing is None and self._db.execute('SELECT 1 FROM pools WHERE name = ?', (settings.name,)).fetchone():
            existing = self.space(settings.name)
        self._db.execute('INSERT OR REPLACE INTO pools (name, settings) VALUES (?, ?)',
                         (settings.name, json.dumps(settings.to_doc())))
        if existing is None:
            self._spaces[settings.name] = space = SqlitePoolSpace(self._db, settings)
        else:
            space = existing
            space.settings = settings
        space.rebuild_occupied()

    def delete_pool(self, name):
        for table in ('pools', 'records', 'occupied'):
            column = 'name' if table == 'pools' else 'pool'
            self._db.execute('DELETE FROM %s WHERE %s = ?' % (table, column), (name,))
        self._spaces.pop(name, None)


class SqlitePoolSpace(PoolSpace):
    def __init__(self, connection, settings):
        self._db = connection
        self.settings = settings

    def _row_record(self, row):
        kind, name, first, last, description, dns_name = row
        return Record(kind, name, _int(first), _int(last), description, dns_name)

    def named(self, kind, name):
        row = self._db.execute('SELECT kind, name, first, last, description, dns_name FROM records '
                               'WHERE pool = ? AND kind = ? AND name = ?', (self.settings.name, kind, name)).fetchone()
        return None if row is None else self._row_record(row)

    def occupied_from(self, value):
        pool = self.settings.name
        row = self._db.execute('SELECT first, last FROM occupied WHERE pool = ? AND first <= ? ORDER BY first DESC LIMIT 1',
                               (pool, _key(value))).fetchone()
        start = value
        if row is not None and _int(row[1]) >= value:
            yield _int(row[0]), _int(row[1])
            start = _int(row[1]) + 1
        cursor = self._db.execute('SELECT first, last FROM occupied WHERE pool = ? AND first >= ? ORDER BY first',
                                  (pool, _key(start)))
        for first, last in cursor:
            yield _int(first), _int(last)

    def find_overlapping(self, first, last):
        row = self._db.execute('SELECT kind, name, first, last, description, dns_name FROM records '
                               'WHERE pool = ? AND first <= ? ORDER BY first DESC LIMIT 1',
                               (self.settings.name, _key(last))).fetchone()
        if row is None:
            return None
        record = self._row_record(row)
        return record if record.last >= first else None

    def records(self, kind=None):
        query = 'SELECT kind, name, first, last, description, dns_name FROM records WHERE pool = ?'
        args = [self.settings.name]
        if kind is not None:
            query += ' AND kind = ?'
            args.append(kind)
        for row in self._db.execute(query + ' ORDER BY first', args):
            yield self._row_record(row)

    def count(self, kind):
        return self._db.execute('SELECT COUNT(*) FROM records WHERE pool = ? AND kind = ?',
                                (self.settings.name, kind)).fetchone()[0]

    def add(self, record):
        pool = self.settings.name
        self._db.execute('INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?, ?)', (
            pool, record.kind, record.name, _key(record.first), _key(record.last),
            record.to_doc(self.settings.version)['address' if record.kind == ADDRESS else 'prefix'],
            record.description, record.dns_name))
        first, last = record.first, record.last
        left = self._db.execute('SELECT first, last FROM occupied WHERE pool = ? AND first < ? ORDER BY first DESC LIMIT 1',
                                (pool, _key(first))).fetchone()
        if left is not None and _int(left[1]) + 1 == first:
            first = _int(left[0])
            self._db.execute('DELETE FROM occupied WHERE pool = ? AND first = ?', (pool, left[0]))
        right = self._db.execute('SELECT last FROM occupied WHERE pool = ? AND first = ?',
                                 (pool, _key(last + 1))).fetchone()
        if right is not None:
            self._db.execute('DELETE FROM occupied WHERE pool = ? AND first = ?', (pool, _key(last + 1)))
            last = _int(right[0])
        self._db.execute('INSERT INTO occupied VALUES (?, ?, ?)', (pool, _key(first), _key(last)))

    def remove(self, record):
        pool = self.settings.name
        self._db.execute('DELETE FROM records WHERE pool = ? AND kind = ? AND name = ?', (pool, record.kind, record.name))
        row = self._db.execute('SELECT first, last FROM occupied WHERE pool = ? AND first <= ? ORDER BY first DESC LIMIT 1',
                               (pool, _key(record.first))).fetchone()
        if row is None or _int(row[1]) < record.last:
            raise StoreError('Store is inconsistent: %s of %r is not marked occupied' % (record.name, pool))
        first, last = _int(row[0]), _int(row[1])
        self._db.execute('DELETE FROM occupied WHERE pool = ? AND first = ?', (pool, row[0]))
        if first < record.first:
            self._db.execute('INSERT INTO occupied VALUES (?, ?, ?)', (pool, _key(first), _key(record.first - 1)))
        if last > record.last:
            self._db.execute('INSERT INTO occupied VALUES (?, ?, ?)', (pool, _key(record.last + 1), _key(last)))

    def rebuild_occupied(self):
        """Recompute the pool's occupied intervals (after its reserved entries or gateway change)."""
        pool = self.settings.name
        occupied = IntervalSet([(record.first, record.last) for record in self.records()] + self.settings.blocked())
        self._db.execute('DELETE FROM occupied WHERE pool = ?', (pool,))
        self._db.executemany('INSERT INTO occupied VALUES (?, ?, ?)',
                             ((pool, _key(first), _key(last)) for first, last in occupied))
