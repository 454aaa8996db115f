# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""The ``netbox`` backend: NetBox 4.x through its REST API (see backend_remote.py for the shared logic)."""

from __future__ import annotations

from .backend_remote import RemoteBackend
from .errors import InvalidInputError
from .remote_objects import PREFIXES, VRFS


class NetboxBackend(RemoteBackend):
    name = 'netbox'
    ip_ranges = True                    # a pool's ranges are IP range objects, each with its own available-ips
    product = 'NetBox'
    url_env = 'NETBOX_URL'
    token_env = 'NETBOX_TOKEN'

    def __init__(self, options):
        if options.get('namespace'):
            raise InvalidInputError('"namespace" is a Nautobot option; on NetBox, choose the prefixes\' VRF with "vrf"')
        super().__init__(options)
        self.vrf = options.get('vrf') or None
        self._vrf_id = None
        self._parents = {}

    def auth_scheme(self, token):
        # NetBox's own rule: v2 tokens (nbt_<key>.<secret>) are Bearer tokens, v1 tokens use "Token".
        return 'Bearer' if token.startswith('nbt_') else 'Token'

    def vrf_id(self):
        if self.vrf is None:
            return None
        if self._vrf_id is None:
            found = self._objects(VRFS, {'name': self.vrf})
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
        return {'within': pool.cidr, 'depth': pool.obj.get('_depth', 0) + 1}

    def is_direct_child(self, pool, obj):
        child = obj['prefix']
        return obj.get('_depth') == pool.obj.get('_depth', 0) + 1 and self._contains(pool, child)

    @staticmethod
    def _contains(pool, cidr):
        from .addresses import parse_network
        network = parse_network(cidr, strict=False)
        return (network.version == pool.network.version and network.prefix_length > pool.network.prefix_length
                and pool.network.contains_block(network.first, network.last))

    def parent_cidr(self, obj):
        depth = obj.get('_depth') or 0
        if depth < 1:
            return None
        key = (obj['prefix'], depth)
        if key not in self._parents:
            found = self._list(PREFIXES, dict(self.scope(), contains=obj['prefix'], depth=depth - 1))
            self._parents[key] = found[0]['prefix'] if found else None
        return self._parents[key]
