# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""Which class serves ``backend: <name>``: the one way from options to a backend.

Built-in backends by name, third-party ones from the ``ipam_allocator.backends``
entry-point group.  Kept apart from the interface (``backend.py``) so that the
backends import the interface and this module imports the backends, never the
other way round.
"""

from __future__ import annotations

from .backend import Backend
from .core.errors import BackendError
from .options import BACKEND_OPTIONS

ENTRY_POINT_GROUP = 'ipam_allocator.backends'

# Imported on first use (``_builtin``) so a play on the file backend never imports an HTTP library.
BUILTIN_BACKENDS = ('file', 'netbox', 'nautobot')


def _builtin(name):
    # Literal imports, so AnsiballZ packs them when a module runs on a host.
    if name == 'file':
        from .filestore.backend_file import FileBackend
        return FileBackend
    if name == 'netbox':
        from .remote.backend import NetboxBackend
        return NetboxBackend
    if name == 'nautobot':
        from .remote.backend import NautobotBackend
        return NautobotBackend
    raise KeyError(name)


def _third_party(name):
    from importlib import metadata
    try:
        found = metadata.entry_points(group=ENTRY_POINT_GROUP)
    except TypeError:  # Python < 3.10 has no selection by group
        found = metadata.entry_points().get(ENTRY_POINT_GROUP, [])
    for entry_point in found:
        if entry_point.name == name:
            try:
                backend_class = entry_point.load()
            except ImportError as exc:
                raise BackendError('Backend %r (%s) cannot be imported: %s' % (name, entry_point.value, exc)) from None
            if not (isinstance(backend_class, type) and issubclass(backend_class, Backend)):
                raise BackendError('Entry point %r of group %s is not a subclass of Backend' % (name, ENTRY_POINT_GROUP))
            return backend_class
    return None


def backend_names():
    """Every name ``backend`` may take here: the built-ins and the installed entry points, sorted."""
    names = set(BUILTIN_BACKENDS)
    try:
        from importlib import metadata
        names.update(entry_point.name for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP))
    except (ImportError, TypeError):
        pass
    return sorted(names)


def load_backend(options):
    """The backend chosen by ``options['backend']`` (default ``file``), opened with ``options``."""
    options = {key: options.get(key) for key in BACKEND_OPTIONS}
    name = options.get('backend') or 'file'
    options['backend'] = name
    try:
        backend_class = _builtin(name)
    except KeyError:
        backend_class = _third_party(name)
    if backend_class is None:
        raise BackendError('Unknown backend %r: choose one of %s, or install a package that registers it '
                           'in the %r entry-point group' % (name, ', '.join(backend_names()), ENTRY_POINT_GROUP))
    return backend_class(options)
