# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""Base class of the lookups: backend from plugin options, check mode from the variables.

Lookups run in the controller's worker processes, one per host and task, so
they rely on the backend's own guarantees (the file store's lock) for
uniqueness across forks.  This is the one place an ``IpamError`` becomes an
``AnsibleLookupError``.
"""

from __future__ import annotations

import sys

from ansible.errors import AnsibleLookupError
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.lookup import LookupBase
from ansible.utils.display import Display

try:
    import yaml
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core
    yaml = None

from ansible_collections.ipam.allocator.plugins.plugin_utils._bytecode import import_compiled
from ansible_collections.ipam.allocator.plugins.plugin_utils._core_internals import merge_fragment, register_plugin_options

# Lookups are imported in every forked worker: the file backend is loaded from bytecode, not compiled again.
import_compiled()

# pylint: disable=wrong-import-position
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.core.errors import IpamError  # noqa: E402
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.options import plugin_backend_options  # noqa: E402
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.registry import load_backend  # noqa: E402
from ansible_collections.ipam.allocator.plugins.plugin_utils._predictions import predictions  # noqa: E402


_COLLECTION_PACKAGE = 'ansible_collections.ipam.allocator'
_OWN_FRAGMENT = 'ipam.allocator.'


def plugin_fqcn(module_name):
    """``ansible_collections.ipam.allocator.plugins.lookup.next_ip`` -> ``ipam.allocator.next_ip``."""
    parts = module_name.split('.')
    return '.'.join(parts[1:3] + parts[5:])


def option_definitions(documentation):
    """The options of a plugin's DOCUMENTATION with its doc fragments merged, parsed by libyaml; None when that won't do.

    It merges fragments as ansible-core's ``add_fragments`` does. Only this collection's fragments
    are resolved here, and a template in the text needs ansible-core's trusted parse: both give None.
    """
    loader = getattr(yaml, 'CSafeLoader', None)
    if loader is None or '{{' in documentation:
        return None
    try:
        doc = yaml.load(documentation, Loader=loader)  # noqa: S506 - CSafeLoader is a safe loader
        fragments = doc.get('extends_documentation_fragment') or []
        if isinstance(fragments, str):
            fragments = fragments.split(',')
        options = doc.get('options') or {}
        for slug in fragments:
            slug = slug.strip()
            if not slug.startswith(_OWN_FRAGMENT):
                return None
            module_name, _dot, variable = slug[len(_OWN_FRAGMENT):].partition('.')
            package = _COLLECTION_PACKAGE + '.plugins.doc_fragments'
            import_compiled((module_name,), package)
            text = getattr(sys.modules['%s.%s' % (package, module_name)].ModuleDocFragment, (variable or 'documentation').upper())
            if '{{' in text:
                return None
            merge_fragment(options, yaml.load(text, Loader=loader).get('options') or {})  # noqa: S506
    except (yaml.YAMLError, AttributeError, ImportError, KeyError, TypeError):
        return None
    return options if isinstance(options, dict) else None


def register_option_definitions(plugin_type, module_name, documentation):
    """Hand ansible-core a plugin's option definitions before it parses them itself.

    ansible-core loads a lookup in each forked worker, one per host and task, and there
    parses its documentation and doc fragments with a pure-Python YAML constructor to learn
    its options: about 6 ms a task, more than the allocation. Parsed by libyaml and merged the
    same way, the definitions are the same (the unit tests compare them), and ansible-core,
    finding them registered, skips its own parse. This uses ansible-core internals
    (``_core_internals.register_plugin_options``); when they are not there, nothing is
    registered and ansible-core parses the documentation as for any plugin.
    """
    # ansible-core keys them by the plugin's resolved name: its Python module name in 2.19+, its FQCN before.
    return register_plugin_options(plugin_type, (module_name, plugin_fqcn(module_name)),
                                   lambda: option_definitions(documentation))


class IpamLookup(LookupBase):

    def __init_subclass__(cls, **kwargs):
        """A lookup module defines its class after DOCUMENTATION, and before ansible-core reads its options."""
        super().__init_subclass__(**kwargs)
        documentation = getattr(sys.modules.get(cls.__module__), 'DOCUMENTATION', None)
        if isinstance(documentation, str) and cls.__module__.startswith(_COLLECTION_PACKAGE + '.plugins.lookup.'):
            register_option_definitions('lookup', cls.__module__, documentation)

    def refuse_with_names(self, **given):
        """Fail when ``names`` comes with an option it cannot go with (``given``: option -> whether it is set)."""
        clashing = [option for option, is_set in given.items() if is_set]
        if clashing:
            raise AnsibleLookupError('%s: "names" cannot be used with %s: each name of the list holds one %s per pool' % (
                self.ansible_name, ', '.join('"%s"' % option for option in clashing),
                'prefix' if self.ansible_name.endswith('prefix') else 'address'))

    def lookup_terms(self, backend, terms, check_mode):
        """Return the list of results for ``terms``; subclasses implement it."""
        raise NotImplementedError

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        # ansible-core drops keywords a lookup does not define: a typo ("nmae=") would turn an allocation into a peek.
        defined = set(self.option_definitions)
        unknown = sorted(set(kwargs) - defined)
        if unknown:
            raise AnsibleLookupError('%s does not take %s; its options are: %s' % (
                self.ansible_name, ', '.join(map(repr, unknown)), ', '.join(sorted(defined - {'_terms'}))))
        check_mode = boolean((variables or {}).get('ansible_check_mode', False), strict=False)
        # query('...', ['v4', 'v6']) passes one list as the term: each pool in it gets its answer.
        terms = [item for term in terms for item in (term if isinstance(term, (list, tuple)) else [term])]
        if not terms:
            raise AnsibleLookupError('%s needs at least one pool as its term' % self.ansible_name)
        try:
            with predictions(check_mode) as log, load_backend(plugin_backend_options(self)) as backend:
                backend.pending = log.pending
                results = self.lookup_terms(backend, [str(term) for term in terms], check_mode)
                log.add(backend.predicted)
                for warning in backend.warnings:
                    Display().warning(warning)
                return results
        except IpamError as exc:
            raise AnsibleLookupError(str(exc)) from exc
