# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""What differs between NetBox and Nautobot: endpoints' filters, VRF or namespace, tags, statuses, IP ranges.

Everything else of the remote backends (remote/server.py, pools.py, view.py, backend.py)
speaks to a server through one of these.
"""

from __future__ import annotations

from datetime import datetime, timezone

from ..core.addresses import parse_network
from ..core.errors import InvalidInputError
from .http import HttpError
from .objects import PREFIXES, VRFS, problem


class Dialect:
    """The API of one kind of server; ``server`` (a remote.server.Server) is set once it exists."""

    name = None                         # the backend's name: 'netbox'
    product = None                      # 'NetBox'
    url_env = None                      # 'NETBOX_URL'
    token_env = None                    # 'NETBOX_TOKEN'
    ip_ranges = False                   # IP range objects with their own available-ips (a pool's ``ranges``)
    can_move_address = True             # PATCH may change an IP address object's address
    prefixes_filter_by_description = True

    def __init__(self, options):
        self.server = None
        self._parents = {}

    def auth_scheme(self, token):
        return 'Token'

    def scope(self):
        """Query parameters that keep a list in our VRF / namespace."""
        raise NotImplementedError

    def scope_text(self):
        raise NotImplementedError

    def scope_fields(self):
        """Body fields that put a new prefix or IP address in our VRF / namespace."""
        raise NotImplementedError

    def status_fields(self):
        """Body fields every new object needs."""
        return {}

    def reserved_fields(self):
        raise NotImplementedError

    def in_scope(self, obj):
        return True

    def tag_filter(self, tag):
        raise NotImplementedError

    def tag_ref(self, tag):
        raise NotImplementedError

    def tag_query(self, tag):
        raise NotImplementedError

    def tag_body(self, tag):
        raise NotImplementedError

    def ips_in(self, cidr):
        """Query parameters for the IP addresses inside ``cidr``."""
        raise NotImplementedError

    def children_filter(self, pool):
        """Query parameters for the direct child prefixes of ``pool`` (a remote.pools.RemotePool)."""
        raise NotImplementedError

    def is_direct_child(self, pool, obj):
        raise NotImplementedError

    def parent_cidr(self, obj):
        """The CIDR of the prefix a child prefix lies in, or None."""
        raise NotImplementedError

    def creation_order(self, obj):
        """Sorts objects in the order the server made them."""
        ident = obj['id']
        return (0, ident, '') if isinstance(ident, int) else (1, 0, str(ident))


class NetboxDialect(Dialect):
    name = 'netbox'
    product = 'NetBox'
    url_env = 'NETBOX_URL'
    token_env = 'NETBOX_TOKEN'
    ip_ranges = True

    def __init__(self, options):
        if options.get('namespace'):
            raise InvalidInputError('"namespace" is a Nautobot option; on NetBox, choose the prefixes\' VRF with "vrf"')
        super().__init__(options)
        self.vrf = options.get('vrf') or None
        self._vrf_id = None

    def auth_scheme(self, token):
        # NetBox's own rule: v2 tokens (nbt_<key>.<secret>) are Bearer tokens, v1 tokens use "Token".
        return 'Bearer' if token.startswith('nbt_') else 'Token'

    def vrf_id(self):
        if self.vrf is None:
            return None
        if self._vrf_id is None:
            found = self.server.objects(VRFS, {'name': self.vrf})
            if len(found) != 1:
                raise InvalidInputError('NetBox has %s VRF named %r (option vrf): give the name of one VRF' % (
                    'no' if not found else len(found), self.vrf))
            self._vrf_id = found[0]['id']
        return self._vrf_id

    def scope(self):
        vrf_id = self.vrf_id()
        return {'vrf_id': 'null' if vrf_id is None else vrf_id}

    def scope_text(self):
        return 'in the global table' if self.vrf is None else 'in VRF %r' % self.vrf

    def scope_fields(self):
        return {'vrf': self.vrf_id()}

    def reserved_fields(self):
        return {'status': 'reserved'}

    def in_scope(self, obj):
        # NetBox ignores filters it does not know, so the VRF is checked on every object too.
        return (obj.get('vrf') or {}).get('id') == self.vrf_id()

    def tag_filter(self, tag):
        return {'tag': tag}

    def tag_ref(self, tag):
        return {'slug': tag}

    def tag_query(self, tag):
        return {'slug': tag}

    def tag_body(self, tag):
        return {'name': tag, 'slug': tag, 'description': 'ipam.allocator'}

    def ips_in(self, cidr):
        return {'parent': cidr}

    def children_filter(self, pool):
        if pool.obj is None:
            return {'within': pool.cidr}
        return {'within': pool.cidr, 'depth': pool.obj.get('_depth', 0) + 1}

    def is_direct_child(self, pool, obj):
        network = parse_network(obj['prefix'], strict=False)
        inside = (network.version == pool.network.version and network.prefix_length > pool.network.prefix_length
                  and pool.network.contains_block(network.first, network.last))
        return inside and (pool.obj is None or obj.get('_depth') == pool.obj.get('_depth', 0) + 1)

    def parent_cidr(self, obj):
        depth = obj.get('_depth') or 0
        if depth < 1:
            return None
        key = (obj['prefix'], depth)
        if key not in self._parents:
            found = self.server.list(PREFIXES, dict(self.scope(), contains=obj['prefix'], depth=depth - 1))
            self._parents[key] = found[0]['prefix'] if found else None
        return self._parents[key]


class NautobotDialect(Dialect):
    name = 'nautobot'
    product = 'Nautobot'
    url_env = 'NAUTOBOT_URL'
    token_env = 'NAUTOBOT_TOKEN'
    can_move_address = False                # "Host address cannot be changed once created"
    prefixes_filter_by_description = False  # no description filter on prefixes: a name is found among the pool's children
    DEFAULT_NAMESPACE = 'Global'

    def __init__(self, options):
        if options.get('vrf'):
            raise InvalidInputError('"vrf" is a NetBox option; on Nautobot, prefixes are kept apart by "namespace"')
        super().__init__(options)
        self.namespace = options.get('namespace') or self.DEFAULT_NAMESPACE

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
        if pool.obj is None:
            return {'within': pool.cidr}
        return {'parent': pool.obj['id']}

    def is_direct_child(self, pool, obj):
        if pool.obj is None:
            network = parse_network(obj['prefix'], strict=False)
            return network.version == pool.network.version and pool.network.contains_block(network.first, network.last) \
                and network.prefix_length > pool.network.prefix_length
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
                response = self.server.http.get('%s%s/' % (PREFIXES, parent_id))
            except HttpError as exc:
                if exc.status != 404:
                    raise
                self._parents[parent_id] = None
            else:
                if problem(PREFIXES, response.data) is not None:
                    raise response.invalid(problem(PREFIXES, response.data))
                self._parents[parent_id] = response.data['prefix']
        return self._parents[parent_id]
