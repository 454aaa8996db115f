# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A Sphinx extension for `make docs` without the internet: references into Ansible's own docsite stay text.

antsibull-docs' pages refer to labels of the Ansible documentation (``action_plugins``,
``common_return_values``, ...) and to ansible-core's environment variables, which Sphinx resolves
through intersphinx inventories downloaded from docs.ansible.com. This machine and CI cannot
reach it: those references, and only those, are written as plain text instead of warning.
Every other unresolved reference (a guide's, a plugin page's) still warns, and warnings fail
the build.
"""

from __future__ import annotations

from docutils import nodes

# Labels of the Ansible documentation that antsibull-docs' templates and ansible-core's doc fragments use.
ANSIBLE_DOCSITE_LABELS = frozenset((
    'action_plugins', 'common_return_values', 'ansible_configuration_settings', 'playbooks_checkmode',
    'module_defaults', 'inventory_plugins', 'lookup_plugins', 'playbooks_vault', 'collections_using',
))


def _offline(app, env, node, contnode):
    target = node.get('reftarget', '')
    domain, reftype = node.get('refdomain'), node.get('reftype')
    if domain == 'std' and ((reftype == 'ref' and target in ANSIBLE_DOCSITE_LABELS)
                            or (reftype == 'envvar' and target.startswith('ANSIBLE_'))):
        return contnode if contnode is not None else nodes.literal(target, target)
    return None


def setup(app):
    app.connect('missing-reference', _offline)
    return {'parallel_read_safe': True, 'parallel_write_safe': True}
