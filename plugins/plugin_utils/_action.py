# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""Base class of the action plugins: run a module's runner on the controller, in-process.

Whatever host the task targets, the backend runs in the controller's worker
process: no module is shipped, no ``delegate_to`` is needed, and ``store`` is a
controller path.  This is the one place an ``IpamError`` becomes an action failure.

The linear strategy loads an action plugin's class in the controller's main
process; importing the file backend here puts it, compiled, in every worker
forked afterwards (Ansible compiles collection code from source on every import,
which would otherwise cost each host-task its own compile).
"""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.validation import check_type_list
from ansible.plugins.action import ActionBase

# pylint: disable-next=unused-import
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.filestore import backend_file, store_document, store_sqlite  # noqa: F401
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.core.errors import IpamError
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.runners import run
from ansible_collections.ipam.allocator.plugins.plugin_utils._predictions import predictions


#: list options that may hold thousands of items (see ``IpamAction._validated_params``)
LARGE_LISTS = ('names',)


class IpamAction(ActionBase):
    """Subclasses set ``SPEC`` (argspec.py) and ``RUNNER`` (runners.py)."""

    TRANSFERS_FILES = False
    SPEC = None
    RUNNER = None
    #: False for a module that only reads (it shares the run's prediction log instead of taking it)
    CHANGES = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._supports_check_mode = True
        self._supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        self._refuse_non_strings()
        params = self._validated_params()
        check_mode = bool(self._task.check_mode)
        with predictions(check_mode, changing=self.CHANGES) as log:
            try:
                outcome, predicted = run(type(self).RUNNER, params, check_mode=check_mode, pending=log.pending,
                                         diff=bool(self._task.diff))
            except IpamError as exc:
                raise AnsibleActionFail(str(exc)) from exc
            log.add(predicted)
        result.update(outcome)
        return result

    def _validated_params(self):
        """The task's arguments checked against ``SPEC``; a long ``names`` list is checked here, not copied.

        ansible-core's validator deep-copies every argument, which for a list of 10,000 names
        (each a tagged string in ansible-core 2.19) costs more than allocating them. The list
        stands in as an empty one for the checks that only ask whether it is given
        (``required_if``, ``mutually_exclusive``); its items are checked by ``bulk.requests_from_items``.
        """
        args = self._task.args
        large = {key: args[key] for key in LARGE_LISTS if key in self.SPEC['argument_spec'] and args.get(key) is not None}
        if large:
            self._task.args = dict(args, **{key: [] for key in large})
        try:
            _validation, params = self.validate_argument_spec(**self.SPEC)
        finally:
            self._task.args = args
        for key, value in large.items():
            try:
                params[key] = check_type_list(value)
            except TypeError:
                raise AnsibleActionFail('Option %r must be a list, got %s' % (key, type(value).__name__)) from None
        return params

    def _refuse_non_strings(self):
        """A list or mapping given to a string option is an error (ansible-core would store its text as a name)."""
        options = self.SPEC['argument_spec']
        for key, value in self._task.args.items():
            if key in options and options[key].get('type', 'str') == 'str' and isinstance(value, (list, dict)):
                raise AnsibleActionFail('Option %r must be a string, got %s' % (
                    key, 'a list' if isinstance(value, list) else 'a mapping'))
