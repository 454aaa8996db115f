# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""plugin_utils/_bytecode.py: modules imported once compiled, from Python's bytecode cache, under their own names."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from ansible_collections.ipam.allocator.plugins.plugin_utils import _bytecode

COLLECTIONS = str(Path(_bytecode.__file__).parents[5])

CHILD = textwrap.dedent('''
    import sys
    sys.path[:0] = [%(packages)r, %(collections)r]
    from ansible_collections.ipam.allocator.plugins.plugin_utils._bytecode import import_compiled
    import_compiled(('base', 'user'), package='fakepkg')
    import fakepkg.user as user
    import fakepkg.base as base
    assert user.base_module is base and user.VALUE == 42, 'a relative import must find the module already loaded'
    print(type(base.__spec__.loader).__name__, base.__cached__)
''')


def run_child(packages):
    env = {key: value for key, value in os.environ.items() if key != 'PYTHONDONTWRITEBYTECODE'}
    result = subprocess.run([sys.executable, '-c', CHILD % {'packages': str(packages), 'collections': COLLECTIONS}],
                            capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_modules_are_compiled_once_and_cached(tmp_path):
    package = tmp_path / 'fakepkg'
    package.mkdir()
    (package / '__init__.py').write_text('')
    (package / 'base.py').write_text('VALUE = 42\n')
    (package / 'user.py').write_text('from . import base as base_module\nfrom .base import VALUE\n')
    loader, cached = run_child(tmp_path)
    assert loader == 'SourceFileLoader'
    assert Path(cached).is_file() and Path(cached).parent == package / '__pycache__'
    first = Path(cached).stat().st_mtime_ns
    # A second process reads the bytecode instead of compiling (the cache file is not rewritten)...
    assert run_child(tmp_path)[1] == cached and Path(cached).stat().st_mtime_ns == first
    # ...until the source changes.
    (package / 'base.py').write_text('VALUE = 42  # changed\n')
    os.utime(package / 'base.py', ns=(first + 10**9, first + 10**9))
    run_child(tmp_path)
    assert Path(cached).stat().st_mtime_ns != first


def test_the_file_backend_loaded_this_way_is_the_one_load_backend_returns():
    code = textwrap.dedent('''
        import sys
        sys.path.insert(0, %r)
        from ansible_collections.ipam.allocator.plugins.plugin_utils._bytecode import FILE_BACKEND_MODULES, import_compiled
        import_compiled()
        from ansible_collections.ipam.allocator.plugins.module_utils._ipam.filestore import backend_file
        from ansible_collections.ipam.allocator.plugins.module_utils._ipam.registry import load_backend
        assert type(load_backend({'store': '/tmp/s.yml'})) is backend_file.FileBackend
        prefix = 'ansible_collections.ipam.allocator.plugins.module_utils._ipam.'
        assert all(prefix + name in sys.modules for name in FILE_BACKEND_MODULES)
        assert 'sqlite3' not in sys.modules and 'requests' not in sys.modules
    ''') % COLLECTIONS
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
