# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""The ``nautobot`` backend: Nautobot 2.x/3.x through its REST API (see backend_remote.py for the shared logic)."""

from __future__ import annotations

from datetime import datetime, timezone

from .backend_remote import RemoteBackend
from .errors import InvalidInputError
from .http import HttpError
from .remote_objects import PREFIXES, problem

DEFAULT_NAMESPACE = 'Global'


class NautobotBackend(RemoteBackend):
    name = 'nautobot'
    product = 'Nautobot'
    url_env = 'NAUTOBOT_URL'
    token_env = 'NAUTOBOT_TOKEN'
    prefix_description_filter = False   # prefixes have no description filter: a name is found among the pool's children
    can_move_address = False            # "Host address cannot be changed once created"

    def __init__(self, options):
        if options.get('vrf'):
            raise InvalidInputError('"vrf" is a NetBox option; on Nautobot, prefixes are kept apart by "namespace"')
        super().__init__(options)
        self.namespace = options.get('namespace') or DEFAULT_NAMESPACE
        self._parents = {}

    def scope(self):
        return {'namespace': self.namespace}

    def scope_text(self):
        return 'in namespace %r' % self.namespace

    def scope_fields(self):
        return {'namespace': {'name': self.namespace}}

    def status_fields(self):
        # Nautobot needs a status on every prefix and IP address it creates.
        return {'status': {'name': 'Active'}}

    def reserved_fields(self):
        return {'status': {'name': 'Reserved'}}

    def tag_filter(self, tag):
        return {'tags': tag}

    def tag_ref(self, tag):
        return {'name': tag}

    def tag_query(self, tag):
        return {'name': tag}

    def tag_body(self, tag):
        return {'name': tag, 'description': 'ipam.allocator', 'content_types': ['ipam.ipaddress', 'ipam.prefix']}

    def ips_in(self, cidr):
        # "parent" is the IP address's closest prefix (by id); "prefix" means contained in it.
        return {'prefix': cidr}

    def children_filter(self, pool):
        return {'parent': pool.obj['id']}

    def is_direct_child(self, pool, obj):
        return (obj.get('parent') or {}).get('id') == pool.obj['id']

    def creation_order(self, obj):
        # Ids are random UUIDs: "created" orders them.  Nautobot makes available-ips and available-prefixes under
        # one lock, so an object made earlier was also committed earlier, and seen by whoever made a later one.
        try:
            created = datetime.fromisoformat(obj.get('created') or '')
        except ValueError:
            created = None
        if created is not None and created.tzinfo is None:
            created = created.replace(tzinfo=timezone.utc)
        return (0, created, str(obj['id'])) if created is not None else (1, None, str(obj['id']))

    def parent_cidr(self, obj):
        parent_id = (obj.get('parent') or {}).get('id')
        if parent_id is None:
            return None
        if parent_id not in self._parents:
            try:
                response = self.http.get('%s%s/' % (PREFIXES, parent_id))
            except HttpError as exc:
                if exc.status != 404:
                    raise
                self._parents[parent_id] = None
            else:
                if problem(PREFIXES, response.data) is not None:
                    raise response.invalid(problem(PREFIXES, response.data))
                self._parents[parent_id] = response.data['prefix']
        return self._parents[parent_id]
