# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The store file and its lock file on disk: owner, group, mode, symbolic links, the temporary file.

Tests marked ``needs_root`` act as other users: a forked child drops to a user id
with ``setgroups``/``setgid``/``setuid`` (no account is needed for a numeric id) and
runs the backend there, so the code under test is the one already imported.
"""

from __future__ import annotations

import grp
import multiprocessing
import os
import shutil
import stat
import subprocess
import sys
import tempfile

import pytest

from ansible_collections.ipam.allocator.plugins.module_utils._ipam.registry import load_backend
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.core.errors import IpamError, StoreError
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.filestore import store_document, store_sqlite

# Loaded before a child drops its ids: the stores are imported on first use, and this interpreter's
# extension modules (grp) may be readable by root alone.
PRELOADED = (grp, store_document, store_sqlite)

FORMATS = ('yml', 'json', 'sqlite')
DOCUMENT_FORMATS = ('yml', 'json')

# Numeric ids without an account: setuid() does not need one, and the messages then say "uid 64101".
ALICE, BOB, CAROL = 64101, 64102, 64103
SHARED_GROUP = 64200

CONTEXT = multiprocessing.get_context('fork')

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason='acting as other users (setuid in a forked child) needs root')


def as_user(uid, function, *args, groups=(), umask=0o022):
    """``function(*args)`` run as ``uid`` (primary group ``uid``, supplementary ``groups``): its result, or its IpamError raised here."""
    receiver, sender = CONTEXT.Pipe(duplex=False)

    def run():
        os.setgroups(list(groups))
        os.setgid(uid)
        os.setuid(uid)
        os.umask(umask)
        try:
            sender.send((True, function(*args)))
        except IpamError as exc:
            sender.send((False, exc))

    child = CONTEXT.Process(target=run)
    child.start()
    sender.close()
    try:
        succeeded, value = receiver.recv()
    except EOFError:
        child.join(60)
        raise AssertionError('the child running as uid %d died (exit code %s): see its traceback above' % (uid, child.exitcode)) from None
    child.join(60)
    if not succeeded:
        raise value
    return value


def allocate(path, name, **options):
    return load_backend(dict(options, store=path)).allocate('lab', name).after['address']


def make_pool(path):
    load_backend({'store': path}).ensure_pool({'name': 'lab', 'cidr': '10.0.0.0/24'})


def addresses(path):
    return {view['name']: view['address'] for view in load_backend({'store': path}).allocations(pool='lab')}


def store_in(directory, extension, directory_mode, directory_group=0):
    """The store's path in ``directory``, which gets ``directory_mode`` and ``directory_group``."""
    os.chown(directory, 0, directory_group)
    os.chmod(directory, directory_mode)
    return os.path.join(directory, 'store.' + extension)


def set_access(paths, uid, gid, mode):
    for name in paths:
        os.chown(name, uid, gid)
        os.chmod(name, mode)


def owner_group_mode(path):
    status = os.stat(path)
    return status.st_uid, status.st_gid, stat.S_IMODE(status.st_mode)


@pytest.fixture
def directory():
    """A directory under /tmp that other users can reach (pytest's tmp_path is private to root)."""
    path = tempfile.mkdtemp(prefix='ipam-store-files-', dir='/tmp')
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


# -- 18. The store file belongs to its owner ---------------------------------------------------------


@needs_root
@pytest.mark.parametrize('extension', FORMATS)
def test_the_lock_file_takes_the_mode_and_group_of_the_store(tmp_path, extension):
    path = str(tmp_path / ('store.' + extension))
    make_pool(path)
    os.unlink(path + '.lock')
    set_access([path], ALICE, SHARED_GROUP, 0o660)
    allocate(path, 'a')
    # Root, which keeps the store's owner, gives the lock file that owner too.
    assert owner_group_mode(path + '.lock') == (ALICE, SHARED_GROUP, 0o660)
    # A lock file that an older version made 0644 (here, root's) is brought in line by the next write.
    set_access([path + '.lock'], 0, 0, 0o644)
    allocate(path, 'b')
    assert owner_group_mode(path + '.lock') == (ALICE, SHARED_GROUP, 0o660)
    assert owner_group_mode(path) == (ALICE, SHARED_GROUP, 0o660)


@needs_root
@pytest.mark.parametrize('extension', FORMATS)
def test_a_group_shared_store_can_be_written_by_every_member(directory, extension):
    """0664 in a setgid directory: alice makes it, bob and alice allocate in turn; mode and group stay."""
    path = store_in(directory, extension, 0o2775, SHARED_GROUP)
    member = {'groups': [SHARED_GROUP], 'umask': 0o002}
    as_user(ALICE, make_pool, path, **member)
    assert owner_group_mode(path) == (ALICE, SHARED_GROUP, 0o664)
    assert as_user(ALICE, allocate, path, 'alice-1', **member) == '10.0.0.1'
    # bob's umask would make new files 0644: the store and its lock file keep 0664 all the same.
    assert as_user(BOB, allocate, path, 'bob-1', groups=[SHARED_GROUP]) == '10.0.0.2'
    assert as_user(ALICE, allocate, path, 'alice-2', **member) == '10.0.0.3'
    assert addresses(path) == {'alice-1': '10.0.0.1', 'bob-1': '10.0.0.2', 'alice-2': '10.0.0.3'}
    assert owner_group_mode(path)[1:] == (SHARED_GROUP, 0o664)
    assert owner_group_mode(path + '.lock')[1:] == (SHARED_GROUP, 0o664)


@needs_root
@pytest.mark.parametrize('extension', DOCUMENT_FORMATS)
def test_a_rewrite_by_a_member_keeps_mode_and_group_and_the_writer_becomes_the_owner(directory, extension):
    """The documented rule: only root can give a file to someone else, so the last writer of a shared store owns it."""
    path = store_in(directory, extension, 0o775, SHARED_GROUP)
    make_pool(path)
    set_access([path, path + '.lock'], ALICE, SHARED_GROUP, 0o660)
    assert as_user(BOB, allocate, path, 'bob-1', groups=[SHARED_GROUP]) == '10.0.0.1'
    assert owner_group_mode(path) == (BOB, SHARED_GROUP, 0o660)
    # Root keeps the owner it finds.
    allocate(path, 'root-1')
    assert owner_group_mode(path) == (BOB, SHARED_GROUP, 0o660)


@needs_root
@pytest.mark.parametrize('extension', FORMATS)
def test_a_user_who_may_not_write_the_store_cannot_replace_it(directory, extension):
    """Root's 0644 store in a directory bob may write: the rename would let bob replace a file he may not write."""
    path = store_in(directory, extension, 0o777)
    make_pool(path)
    allocate(path, 'root-1')
    before = open(path, 'rb').read()
    # The lock file has the store's mode: bob may not even take the lock, and is told why.
    with pytest.raises(StoreError) as failure:
        as_user(BOB, allocate, path, 'bob-1')
    message = str(failure.value)
    assert path + '.lock' in message and 'read and write permission' in message and 'mode 0644' in message
    # With a lock file anyone may write, the store's own mode still says no.
    os.chmod(path + '.lock', 0o666)
    with pytest.raises(StoreError) as failure:
        as_user(BOB, allocate, path, 'bob-1')
    message = str(failure.value)
    assert 'Cannot write store %s' % path in message and 'uid %d' % BOB in message
    assert 'write permission on the store file' in message and 'owner root, group root, mode 0644' in message
    assert open(path, 'rb').read() == before
    assert owner_group_mode(path) == (0, 0, 0o644)
    assert sorted(os.listdir(directory)) == sorted(['store.' + extension, 'store.%s.lock' % extension])


@needs_root
@pytest.mark.parametrize('extension', DOCUMENT_FORMATS)
def test_a_writer_outside_the_store_group_is_refused(directory, extension):
    """A world-writable store of alice's group: carol could write it, but the new file could not keep its group."""
    path = store_in(directory, extension, 0o777)
    make_pool(path)
    set_access([path, path + '.lock'], ALICE, SHARED_GROUP, 0o666)
    with pytest.raises(StoreError) as failure:
        as_user(CAROL, allocate, path, 'carol-1')
    message = str(failure.value)
    assert 'Cannot write store %s' % path in message and 'not a member of its group %d' % SHARED_GROUP in message
    assert owner_group_mode(path) == (ALICE, SHARED_GROUP, 0o666)
    assert addresses(path) == {}


@needs_root
@pytest.mark.parametrize('extension', FORMATS)
def test_a_directory_that_may_not_be_written_is_named_with_the_permission(directory, extension):
    path = store_in(directory, extension, 0o755)
    make_pool(path)
    set_access([path, path + '.lock'], 0, 0, 0o666)
    with pytest.raises(StoreError) as failure:
        as_user(BOB, allocate, path, 'bob-1')
    message = str(failure.value)
    assert path in message and 'write permission on its directory %s' % directory in message
    assert addresses(path) == {}


@needs_root
def test_a_directory_that_cannot_be_reached_is_not_called_missing(directory):
    os.chmod(directory, 0o700)
    path = os.path.join(directory, 'store.yml')
    with pytest.raises(StoreError) as failure:
        as_user(BOB, load_backend, {'store': path})
    message = str(failure.value)
    assert 'does not exist' not in message and directory in message and 'search (x) permission' in message


@needs_root
@pytest.mark.parametrize('extension', FORMATS)
def test_a_store_that_may_not_be_read_is_named_with_the_permission(directory, extension):
    path = os.path.join(directory, 'store.' + extension)
    make_pool(path)
    os.chmod(path, 0o600)
    with pytest.raises(StoreError) as failure:
        as_user(BOB, lambda: load_backend({'store': path}).allocations())
    message = str(failure.value)
    assert 'Cannot read store %s' % path in message and 'read permission on the store file' in message


def immutable(path, on):
    """Set or clear the immutable attribute (even root may then not write the file); False where unsupported."""
    chattr = shutil.which('chattr')
    if chattr is None:
        return False
    return subprocess.run([chattr, '+i' if on else '-i', path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          check=False).returncode == 0


@needs_root
@pytest.mark.parametrize('existing', [True, False], ids=['existing store', 'empty file'])
def test_a_readonly_sqlite_store_is_named_with_the_permission(tmp_path, existing):
    """Root skips the permission check, so this is SQLite's own "attempt to write a readonly database"."""
    path = str(tmp_path / 'store.sqlite')
    if existing:
        make_pool(path)
    else:
        open(path, 'wb').close()
    if not immutable(path, True):
        pytest.skip('chattr +i is not available on this file system')
    try:
        with pytest.raises(StoreError) as failure:
            if existing:
                allocate(path, 'a')
            else:
                make_pool(path)
    finally:
        immutable(path, False)
    message = str(failure.value)
    assert 'Cannot write store %s: attempt to write a readonly database' % path in message
    assert 'needs write permission on the store file and on its directory' in message


# -- 19. A store path that is a symbolic link -----------------------------------------------------


@pytest.mark.parametrize('extension', FORMATS)
def test_a_link_to_the_store_and_the_store_are_one_store(tmp_path, extension):
    real = str(tmp_path / ('data/real.' + extension))
    link = str(tmp_path / ('link.' + extension))
    os.mkdir(tmp_path / 'data')
    os.symlink('data/real.' + extension, link)
    make_pool(link)                              # a dangling link: the first write creates its target
    assert os.path.islink(link) and os.path.isfile(real)
    assert allocate(link, 'via-link') == '10.0.0.1'
    assert allocate(real, 'via-real') == '10.0.0.2'
    assert os.path.islink(link)
    assert addresses(link) == addresses(real) == {'via-link': '10.0.0.1', 'via-real': '10.0.0.2'}
    # One lock, beside the real file.
    assert load_backend({'store': link}).store.lock_path == real + '.lock'
    assert not os.path.exists(link + '.lock')


def test_a_link_loop_is_refused_with_its_path(tmp_path):
    loop = str(tmp_path / 'loop.yml')
    os.symlink('loop.yml', loop)
    with pytest.raises(StoreError, match='symbolic link'):
        load_backend({'store': loop})


# -- 20. The temporary file is created exclusively -------------------------------------------------


@pytest.mark.parametrize('extension', DOCUMENT_FORMATS)
def test_the_temporary_file_is_never_written_through_what_is_already_there(tmp_path, extension):
    path = str(tmp_path / ('store.' + extension))
    make_pool(path)
    victim = tmp_path / 'victim'
    victim.write_bytes(b'precious')
    usual_temporary = str(tmp_path / ('.store.%s.tmp' % extension))
    os.symlink(str(victim), usual_temporary)
    assert allocate(path, 'a') == '10.0.0.1'
    assert victim.read_bytes() == b'precious'
    assert os.path.isfile(path) and not os.path.islink(path)
    # The planted link, at the name only the lock holder uses, was removed rather than followed.
    assert sorted(os.listdir(tmp_path)) == sorted(['store.' + extension, 'store.%s.lock' % extension, 'victim'])


@pytest.mark.parametrize('extension', DOCUMENT_FORMATS)
def test_a_temporary_left_by_a_killed_writer_is_cleared(tmp_path, extension):
    path = str(tmp_path / ('store.' + extension))
    make_pool(path)
    (tmp_path / ('.store.%s.tmp' % extension)).write_bytes(b'half a store')
    allocate(path, 'a')
    assert [name for name in os.listdir(tmp_path) if name.endswith('.tmp')] == []


@needs_root
@pytest.mark.parametrize('extension', DOCUMENT_FORMATS)
def test_a_temporary_planted_in_a_shared_directory_cannot_take_the_store(directory, extension):
    """/tmp-like (1777): carol pre-creates the temporary name; bob's new store must still be bob's own."""
    path = store_in(directory, extension, 0o1777)
    planted = os.path.join(directory, '.store.%s.tmp' % extension)

    def plant():
        with open(planted, 'w', encoding='utf-8') as handle:
            handle.write('carol was here')
        os.chmod(planted, 0o666)

    as_user(CAROL, plant)
    as_user(BOB, make_pool, path)
    assert owner_group_mode(path)[:2] == (BOB, BOB)
    assert as_user(BOB, allocate, path, 'bob-1') == '10.0.0.1'
    assert owner_group_mode(path)[:2] == (BOB, BOB)
    assert open(planted, encoding='utf-8').read() == 'carol was here'
    assert owner_group_mode(planted)[0] == CAROL
    assert [name for name in os.listdir(directory) if name.endswith('.tmp') and name != os.path.basename(planted)] == []


if sys.platform != 'linux':  # pragma: no cover
    pytestmark = pytest.mark.skip(reason='file ownership and /proc are tested on Linux')
