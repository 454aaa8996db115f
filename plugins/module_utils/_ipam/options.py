# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""The backend options, declared once: type, default, environment variable, ansible.cfg key.

Everything else follows from here: the modules' argument spec (``argspec.BACKEND_ARGSPEC``),
the options the lookups and the inventory plugin read (``plugin_backend_options``), the
backends' defaults (``DEFAULT_TIMEOUT``, ``DEFAULT_LOCK_TIMEOUT``).  The doc fragment
``plugins/doc_fragments/backend.py`` has to stay static YAML (ansible-doc and the sanity
tests read it as text), so a unit test holds it to this declaration instead.
"""

from __future__ import annotations

#: every option's environment variable is this prefix and its name in capitals
ENV_PREFIX = 'IPAM_ALLOCATOR_'
#: the ansible.cfg section the lookups and the inventory plugin read
INI_SECTION = 'ipam_allocator'

DEFAULT_TIMEOUT = 30
DEFAULT_LOCK_TIMEOUT = 60


def env_name(option):
    """The environment variable of the backend option ``option``."""
    return ENV_PREFIX + option.upper()


class BackendOption:
    """One backend option as every plugin type sees it."""

    __slots__ = ('name', 'type', 'default', 'module_env', 'ini', 'no_log')

    def __init__(self, name, option_type='str', default=None, module_env=False, ini=True, no_log=None):
        self.name = name
        #: Ansible's option type, for the argument spec and the documentation alike
        self.type = option_type
        self.default = default
        #: whether a module, too, falls back to ``env`` (lookups and the inventory always do)
        self.module_env = module_env
        #: whether ansible.cfg may set it (``[ipam_allocator] <name>``)
        self.ini = ini
        #: None unless the sanity test must be told (True: a secret; False: a name that only sounds like one)
        self.no_log = no_log

    @property
    def env(self):
        return env_name(self.name)

    def __repr__(self):
        return 'BackendOption(%r)' % self.name


OPTIONS = (
    BackendOption('backend', default='file'),
    BackendOption('store', 'path', module_env=True),
    BackendOption('url'),
    # A secret: never in ansible.cfg, a file that is often committed; never logged.
    BackendOption('token', module_env=True, ini=False, no_log=True),
    BackendOption('validate_certs', 'bool', default=True),
    BackendOption('ca_path', 'path'),
    BackendOption('timeout', 'float', default=DEFAULT_TIMEOUT),
    BackendOption('lock_timeout', 'float', default=DEFAULT_LOCK_TIMEOUT),
    BackendOption('vrf'),
    BackendOption('namespace'),
    # The name of a custom field: "key" in it is no credential.
    BackendOption('key_field', no_log=False),
)

#: every option a backend may read, by name
BACKEND_OPTIONS = tuple(option.name for option in OPTIONS)
#: the options a backend object must not keep (``Backend.options``)
SECRET_OPTIONS = tuple(option.name for option in OPTIONS if option.no_log)


def plugin_backend_options(plugin):
    """The backend options a lookup or inventory plugin was given (keywords, source file, environment, ansible.cfg).

    ``plugin`` is anything with ansible-core's ``has_option``/``get_option``.  Strings come back
    as plain ``str``: ansible-core 2.19 hands tagged ``str`` subclasses, which a store's YAML
    writer refuses.
    """
    options = {}
    for key in BACKEND_OPTIONS:
        if plugin.has_option(key):
            value = plugin.get_option(key)
            options[key] = str(value) if isinstance(value, str) else value
    return options
