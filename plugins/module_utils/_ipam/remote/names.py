# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""Where an allocation's name lives on a NetBox or Nautobot object, and what the servers let a name be.

The servers have no field for it, so the name is kept in a custom field (option
``key_field``) or at the start of the description: ``name`` or ``name | description``.
"""

from __future__ import annotations

import re

from ..core.errors import InvalidInputError
from ..core.model import PREFIX, valid_name

SEPARATOR = ' | '
KEY_FIELD = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*$')


def clean(value):
    """Text as the servers keep it (trimmed); empty means unset."""
    if value is None:
        return None
    value = str(value).strip()
    return value or None


class NameCodec:
    """Reads and writes names on objects, for one backend (``key_field`` or the description)."""

    def __init__(self, key_field, backend_name, prefixes_filter_by_description=True):
        key_field = key_field or None
        if key_field is not None and not KEY_FIELD.match(str(key_field)):
            raise InvalidInputError('key_field %r must be the name of a custom field: letters, digits and underscores' % (key_field,))
        self.key_field = None if key_field is None else str(key_field)
        self._backend_name = backend_name
        self._prefixes_filter_by_description = prefixes_filter_by_description

    def check(self, name):
        """The collection's rule for names (model.valid_name), and the separator the description form needs."""
        name = valid_name(name)
        if self.key_field is None and SEPARATOR in name:
            raise InvalidInputError('Name %r contains %r, which separates the name from the description on the %s backend: '
                                    'choose another name or set key_field' % (name, SEPARATOR, self._backend_name))
        return name

    def fields(self, name, description):
        """Body fields that give a new or changed object ``name`` and ``description``."""
        if self.key_field is not None:
            return {'custom_fields': {self.key_field: name}, 'description': description or ''}
        return {'description': name if not description else name + SEPARATOR + description}

    def filter(self, kind, name):
        """Query parameters that narrow a list to ``name`` (loosely: ``read`` checks what comes back)."""
        if self.key_field is not None:
            return {'cf_%s' % self.key_field: name}
        if kind == PREFIX and not self._prefixes_filter_by_description:
            return {}
        return {'description__isw': name}

    def read(self, obj, name=None):
        """``(name, description)`` kept on ``obj``; with ``name``, ``(None, None)`` unless it is exactly that name."""
        if self.key_field is not None:
            found = (obj.get('custom_fields') or {}).get(self.key_field)
            found = str(found) if found not in (None, '') else None
            if name is not None and found != name:
                return None, None
            return found, clean(obj.get('description'))
        text = obj.get('description') or ''
        if name is not None:
            if text == name:
                return name, None
            if text.startswith(name + SEPARATOR):
                return name, clean(text[len(name) + len(SEPARATOR):])
            return None, None
        found, separator, rest = text.partition(SEPARATOR)
        return found or None, clean(rest) if separator else None
