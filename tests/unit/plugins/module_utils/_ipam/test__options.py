# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""options.py: the one declaration of the backend options, and what the argument spec and the plugins make of it."""

from __future__ import annotations

from ansible.module_utils.common.parameters import env_fallback

from ansible_collections.ipam.allocator.plugins.module_utils._ipam.filestore import backend_file, store_document
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.argspec import BACKEND_ARGSPEC, IP_ADDRESS
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.options import (
    BACKEND_OPTIONS,
    DEFAULT_LOCK_TIMEOUT,
    DEFAULT_TIMEOUT,
    OPTIONS,
    SECRET_OPTIONS,
    plugin_backend_options,
)
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.remote import backend as remote_backend


def test_the_module_argument_spec_follows_the_declaration():
    assert list(BACKEND_ARGSPEC) == list(BACKEND_OPTIONS)
    assert BACKEND_ARGSPEC['backend'] == {'type': 'str', 'default': 'file'}
    assert BACKEND_ARGSPEC['store'] == {'type': 'path', 'fallback': (env_fallback, ['IPAM_ALLOCATOR_STORE'])}
    assert BACKEND_ARGSPEC['token'] == {'type': 'str', 'no_log': True, 'fallback': (env_fallback, ['IPAM_ALLOCATOR_TOKEN'])}
    assert BACKEND_ARGSPEC['timeout'] == {'type': 'float', 'default': 30}
    assert BACKEND_ARGSPEC['lock_timeout'] == {'type': 'float', 'default': 60}
    assert BACKEND_ARGSPEC['key_field'] == {'type': 'str', 'no_log': False}
    assert all(IP_ADDRESS['argument_spec'][name] == spec for name, spec in BACKEND_ARGSPEC.items())


def test_the_backends_take_their_defaults_from_the_declaration():
    declared = {option.name: option.default for option in OPTIONS}
    assert (declared['timeout'], declared['lock_timeout']) == (DEFAULT_TIMEOUT, DEFAULT_LOCK_TIMEOUT) == (30, 60)
    assert remote_backend.DEFAULT_TIMEOUT is DEFAULT_TIMEOUT
    assert backend_file.DEFAULT_LOCK_TIMEOUT is DEFAULT_LOCK_TIMEOUT
    assert store_document.StoreFile.__init__.__defaults__ == (DEFAULT_LOCK_TIMEOUT,)


def test_only_the_token_is_secret():
    assert SECRET_OPTIONS == ('token',)


class _Str(str):
    """Stands in for ansible-core 2.19's tagged strings."""


class _Plugin:
    def __init__(self, **values):
        self.values = values

    def has_option(self, key):
        return key in self.values

    def get_option(self, key):
        return self.values[key]


def test_plugin_options_are_the_backend_options_the_plugin_has_as_plain_values():
    options = plugin_backend_options(_Plugin(store=_Str('/srv/store.yml'), timeout=5.0, pools=['lab'], name='web01'))
    assert options == {'store': '/srv/store.yml', 'timeout': 5.0}
    assert options['store'].__class__ is str     # not the tagged subclass
