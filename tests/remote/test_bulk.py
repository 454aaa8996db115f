# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Many names in one task on the real servers (issue 14, item 4): the server's bulk step is all or nothing, and so is
the backend's, when the pool has fewer free addresses than the list asks for."""

from __future__ import annotations

import pytest

from ansible_collections.ipam.allocator.plugins.module_utils._ipam.core.bulk import AddressRequest
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.core.errors import PoolExhaustedError


def small_pool(server, number):
    """A /29 (six usable addresses) no other test uses."""
    return '10.198.%d.0/29' % (2 * number + (1 if server.name == 'netbox' else 2))


def requests(names):
    return [AddressRequest(name, position) for position, name in enumerate(names)]


def ours(api, cidr):
    """The addresses of ``cidr`` the backend holds (the foreign ones a test makes say so in their description)."""
    return sorted(obj['address'] for obj in api.ips_in(cidr) if obj['description'] != 'someone else')


def test_the_server_makes_a_list_all_or_nothing(server, api):
    """What the backend relies on: available-ips makes a list lowest first in the order given, or, when fewer are free
    than asked, nothing at all (NetBox answers 409, Nautobot 204)."""
    cidr = small_pool(server, 0)
    body = {'prefix': cidr}
    if api.nautobot:
        body.update(status={'name': 'Active'}, namespace={'name': 'Global'}, type='network')
    prefix = api.post('api/ipam/prefixes/', body)
    path = 'api/ipam/prefixes/%s/available-ips/' % prefix['id']

    def bodies(names):
        return [dict({'description': name}, **({'status': {'name': 'Active'}} if api.nautobot else {})) for name in names]
    made = api.post(path, bodies(['a', 'b', 'c', 'd']))
    assert [(obj['address'], obj['description']) for obj in made] == [
        ('10.198.%d.%d/29' % (int(cidr.split('.')[2]), number), name) for number, name in zip(range(1, 5), 'abcd')]
    answer = api.session.post(api._url(path), json=bodies(['e', 'f', 'g']), timeout=30)  # pylint: disable=protected-access
    assert answer.status_code == (204 if api.nautobot else 409), answer.text
    assert len(api.ips_in(cidr)) == 4


def test_more_names_than_free_addresses_allocates_none(backend, server, api):
    cidr = small_pool(server, 1)
    backend.ensure_pool({'name': cidr, 'cidr': cidr})
    backend.allocate(cidr, 'old01')
    backend.allocate(cidr, 'old02')
    names = ['old01', 'new01', 'new02', 'new03', 'new04', 'new05', 'new06']
    with pytest.raises(PoolExhaustedError, match=r"exhausted \(2 of 6 used, 4 free\); names\[5\] 'new05' and the 1 after "
                                                 r"it would get none\. Nothing was allocated"):
        backend.bulk_allocate(cidr, requests(names))
    assert len(ours(api, cidr)) == 2
    # One fewer fits: every new name gets the lowest free address, in the order given.
    outcome = backend.bulk_allocate(cidr, requests(names[:5]))
    third = cidr.split('.')[2]
    expected = ['10.198.%s.%d' % (third, number) for number in range(3, 7)]
    assert [outcome.outcomes[name].after['address'] for name in names[1:5]] == expected


def test_a_pool_filled_behind_the_tasks_back_leaves_nothing_behind(backend, server, api):
    """Another task takes addresses between the backend's read and its bulk POST: the server refuses the list, and the
    task fails naming the first name left without an address, with none of its names allocated."""
    cidr = small_pool(server, 2)
    net = cidr.rsplit('.', 1)[0]
    backend.ensure_pool({'name': cidr, 'cidr': cidr})
    backend.allocate(cidr, 'old01')
    original = backend.http.request

    def request(method, path, **kwargs):
        if method == 'POST' and 'available-ips' in path and isinstance(kwargs.get('body'), list):
            for number in (4, 5, 6):
                api.make_ip('%s.%d/29' % (net, number), 'someone else')
        return original(method, path, **kwargs)

    backend.http.request = request
    with pytest.raises(PoolExhaustedError, match=r"names\[3\] 'new03' would get none\. Nothing was allocated"):
        backend.bulk_allocate(cidr, requests(['old01', 'new01', 'new02', 'new03']))
    backend.http.request = original
    assert ours(api, cidr) == ['%s.1/29' % net]
    assert len(api.ips_in(cidr)) == 4
