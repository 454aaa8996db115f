# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The backend contract on real NetBox and Nautobot servers: the same Outcomes and views as the file backend."""

from __future__ import annotations

import pytest

from ansible_collections.ipam.allocator.plugins.module_utils._ipam.registry import load_backend
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.remote.objects import TAG
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.core.errors import (
    ConflictError,
    InvalidInputError,
    IpamError,
    OutOfPoolError,
    PoolExhaustedError,
    PoolInUseError,
    PoolNotFoundError,
)

RECORD_KEYS = {'pool', 'name', 'address', 'cidr', 'prefix_length', 'gateway', 'description', 'dns_name'}
PREFIX_KEYS = {'pool', 'name', 'prefix', 'network', 'prefix_length', 'gateway', 'description'}
POOL_KEYS = {'name', 'cidr', 'ranges', 'reserved', 'gateway', 'description', 'size', 'used', 'free'}


def host(cidr, number):
    return '%s.%d' % (cidr.rsplit('.', 1)[0], number)


def pool(backend, cidr, **params):
    params.update(name=cidr, cidr=cidr)
    return backend.ensure_pool(params).after


@pytest.fixture
def file_backend(tmp_path):
    with load_backend({'store': str(tmp_path / 'store.yml')}) as opened:
        yield opened


@pytest.fixture
def spy(backend):
    """The HTTP methods the backend sends (a wrapper around its own client, no mock of requests)."""
    methods = []
    original = backend.http.request

    def request(method, path, **kwargs):
        methods.append(method)
        return original(method, path, **kwargs)

    backend.http.request = request
    return methods


def test_views_have_the_file_backends_shape(backend, cidr, tmp_path):
    file_backend = load_backend({'store': str(tmp_path / 'store.yml')})
    for each in (backend, file_backend):
        view = pool(each, cidr, gateway=host(cidr, 1), description='lab net')
        assert set(view) == POOL_KEYS
        assert view == {'name': cidr, 'cidr': cidr, 'ranges': [], 'reserved': [], 'gateway': host(cidr, 1),
                        'description': 'lab net', 'size': 253, 'used': 0, 'free': 253}
    remote = backend.allocate(cidr, 'web01', description='front end', dns_name='web01.example.com')
    local = file_backend.allocate(cidr, 'web01', description='front end', dns_name='web01.example.com')
    assert remote.changed and local.changed
    assert remote.before == local.before == {}
    assert remote.after == local.after == {
        'pool': cidr, 'name': 'web01', 'address': host(cidr, 2), 'cidr': host(cidr, 2) + '/24', 'prefix_length': 24,
        'gateway': host(cidr, 1), 'description': 'front end', 'dns_name': 'web01.example.com'}
    assert backend.allocations(pool=cidr) == file_backend.allocations(pool=cidr)
    assert backend.pools(cidr) == file_backend.pools(cidr)
    assert backend.pools(cidr)[0]['used'] == 1


def test_allocate_rerun_release(backend, cidr):
    pool(backend, cidr)
    first = backend.allocate(cidr, 'web01')
    assert first.changed and first.after['address'] == host(cidr, 1) and set(first.after) == RECORD_KEYS
    again = backend.allocate(cidr, 'web01')
    assert not again.changed and again.before == again.after == first.after
    second = backend.allocate(cidr, 'web02')
    assert second.after['address'] == host(cidr, 2)
    assert [view['name'] for view in backend.allocations(pool=cidr)] == ['web01', 'web02']
    assert backend.allocations(name='web02') == [second.after]
    assert backend.allocations(address=host(cidr, 1)) == [first.after]
    released = backend.release(cidr, name='web01')
    assert released.changed and released.before == first.after and released.after == {}
    assert not backend.release(cidr, name='web01').changed
    assert backend.release(cidr, address=host(cidr, 2)).before['name'] == 'web02'
    assert backend.allocations(pool=cidr) == []
    assert backend.allocate(cidr, 'web03').after['address'] == host(cidr, 1)


def test_description_and_dns_name_are_updated_in_place(backend, cidr, api):
    pool(backend, cidr)
    first = backend.allocate(cidr, 'web01', description='one')
    updated = backend.allocate(cidr, 'web01', description='two', dns_name='web01.example.com')
    assert updated.changed and updated.before == first.after
    assert updated.after == dict(first.after, description='two', dns_name='web01.example.com')
    assert not backend.allocate(cidr, 'web01', description='two').changed
    objects = api.ips_in(cidr)
    assert len(objects) == 1 and objects[0]['description'] == 'web01 | two'


def test_check_mode_predicts_exactly_and_sends_gets_only(backend, server, cidr, spy):
    pool(backend, cidr)
    backend.allocate(cidr, 'web01')
    del spy[:]
    predicted = backend.allocate(cidr, 'web02', check_mode=True)
    assert backend.release(cidr, name='web01', check_mode=True).changed
    assert backend.ensure_pool({'name': '10.250.0.0/24', 'cidr': '10.250.0.0/24'}, check_mode=True).changed
    assert backend.allocate(cidr, 'web03', address=host(cidr, 9), check_mode=True).changed
    assert backend.remove_pool(cidr, force=True, check_mode=True).changed
    with pytest.raises(PoolNotFoundError):     # as in the real run, once the pool is removed
        backend.allocate(cidr, 'web04', check_mode=True)
    assert set(spy) == {'GET'}
    # This backend's reads see its own predictions, as a later check-mode task's would ...
    assert backend.pools('10.250.0.0/24')[0]['cidr'] == '10.250.0.0/24' and backend.pools(cidr) == []
    # ... and the server is as it was.
    fresh = load_backend(server.options)      # backend.options keeps no token
    assert fresh.pools('10.250.0.0/24') == [] and len(fresh.allocations(pool=cidr)) == 1
    real = fresh.allocate(cidr, 'web02')
    assert predicted.changed and predicted.after == real.after


class Tasks:
    """Backend calls made as separate tasks of one run: each on a fresh backend (of ``options``) that gets the
    predictions of the earlier ones as ``pending``, as the action plugins pass them on."""

    def __init__(self, options, check_mode):
        self.options = options
        self.check_mode = check_mode
        self.pending = []
        self.methods = []

    def __call__(self, method, *args, **kwargs):
        with load_backend(self.options) as backend:
            backend.pending = list(self.pending)
            http = getattr(backend, 'http', None)      # a server's client: its methods are recorded
            if http is not None:
                original = http.request

                def request(verb, path, **options):
                    self.methods.append(verb)
                    return original(verb, path, **options)

                http.request = request
            if method in ('peek', 'peek_prefix'):
                return getattr(backend, method)(*args, **kwargs)
            outcome = getattr(backend, method)(*args, check_mode=self.check_mode, **kwargs)
            self.pending.extend(backend.predicted)
            return outcome


def site_chain(tasks, supernet, existing):
    """A supernet, a subnet from it, a pool from the subnet, addresses in it; releases in an existing pool."""
    values = [tasks('ensure_pool', {'name': supernet, 'cidr': supernet}).after['cidr']]
    tasks('allocate_prefix', supernet, 'chain-core', prefix_length=24)
    subnet = tasks('allocate_prefix', supernet, 'chain-berlin', prefix_length=26).after
    values += [subnet['prefix'], subnet['gateway']]
    tasks('ensure_pool', {'name': subnet['prefix'], 'cidr': subnet['prefix'], 'parent': supernet, 'gateway': subnet['gateway']})
    values += [tasks('allocate', subnet['prefix'], name).after['address'] for name in ('chain-web01', 'chain-web02', 'chain-web03')]
    values.append(tasks('allocate', subnet['prefix'], 'chain-web02').changed)
    values.append(tasks('release', subnet['prefix'], name='chain-web01').before['address'])
    values.append(tasks('allocate', subnet['prefix'], 'chain-web04').after['address'])
    values.append([view['address'] for view in tasks('peek', subnet['prefix'], count=2)])
    values.append(tasks('allocate_prefix', supernet, 'chain-paris', prefix_length=26).after['prefix'])
    values.append(tasks('release_prefix', supernet, name='chain-core').before['prefix'])
    values.append([view['prefix'] for view in tasks('peek_prefix', supernet, 25, count=2)])
    # In a pool the server holds: a release frees an address the next allocation takes.
    values.append(tasks('release', existing, name='chain-old01').before['address'])
    values.append(tasks('allocate', existing, 'chain-new01').after['address'])
    with pytest.raises(ConflictError, match="already held by 'chain-web03'"):
        tasks('allocate', subnet['prefix'], 'chain-web05', address=values[5])
    return values


def test_check_mode_predicts_a_chain_of_tasks(backend, file_backend, server, spy, api):
    """Check mode predicts every value of a chain whose first steps never reach the server, sending GETs only;
    the chain, checked and real, gives the file store's values."""
    supernet = '10.%d.0.0/16' % (214 if server.name == 'netbox' else 215)
    existing = '10.%d.0.0/24' % (216 if server.name == 'netbox' else 217)
    for each in (backend, file_backend):
        pool(each, existing)
        for name in ('chain-old00', 'chain-old01', 'chain-old02'):
            each.allocate(existing, name)
    checked = Tasks(server.options, check_mode=True)
    predicted = site_chain(checked, supernet, existing)
    assert set(checked.methods) == {'GET'}
    assert api.list('api/ipam/prefixes/', within_include=supernet) == []
    real = site_chain(Tasks(server.options, check_mode=False), supernet, existing)
    assert predicted == real
    assert site_chain(Tasks(file_backend.options, check_mode=True), supernet, existing) == real
    assert site_chain(Tasks(file_backend.options, check_mode=False), supernet, existing) == real
    assert real[1:] == ['%s/26' % host(supernet.replace('0.0/16', '1.0'), 0), host(supernet.replace('0.0/16', '1.0'), 1)] + [
        host(supernet.replace('0.0/16', '1.0'), number) for number in (2, 3, 4)] + [
        False, host(supernet.replace('0.0/16', '1.0'), 2), host(supernet.replace('0.0/16', '1.0'), 2),
        [host(supernet.replace('0.0/16', '1.0'), number) for number in (5, 6)],
        supernet.replace('0.0/16', '1.64/26'), supernet.replace('0.0/16', '0.0/24'),
        # Best fit, as on a file store: the /25 left beside berlin and paris before half of the released /24.
        [supernet.replace('0.0/16', '1.128/25'), supernet.replace('0.0/16', '0.0/25')],
        host(existing, 2), host(existing, 2)]


def test_specific_address_and_conflicts_name_the_holder(backend, cidr, api):
    pool(backend, cidr, gateway=host(cidr, 1))
    web02 = backend.allocate(cidr, 'web02', address=host(cidr, 50))
    assert web02.changed and web02.after['address'] == host(cidr, 50)
    assert not backend.allocate(cidr, 'web02', address=host(cidr, 50)).changed
    with pytest.raises(ConflictError, match=r"already held by 'web02'"):
        backend.allocate(cidr, 'web03', address=host(cidr, 50))
    foreign = api.make_ip(host(cidr, 60) + '/24', description='printer')
    with pytest.raises(ConflictError) as caught:
        backend.allocate(cidr, 'web04', address=host(cidr, 60))
    assert "which ipam.allocator did not make" in str(caught.value) and str(foreign['id']) in str(caught.value)
    with pytest.raises(OutOfPoolError, match='gateway'):
        backend.allocate(cidr, 'web05', address=host(cidr, 1))
    with pytest.raises(OutOfPoolError, match='network or broadcast'):
        backend.allocate(cidr, 'web05', address=host(cidr, 255))
    with pytest.raises(OutOfPoolError, match='outside'):
        backend.allocate(cidr, 'web05', address='192.0.2.1')
    moved = backend.allocate(cidr, 'web02', address=host(cidr, 51))
    assert moved.changed and moved.before['address'] == host(cidr, 50) and moved.after['address'] == host(cidr, 51)
    assert [view['address'] for view in backend.allocations(pool=cidr)] == [host(cidr, 51)]


def test_only_objects_it_made_are_found_or_deleted(backend, cidr, api):
    pool(backend, cidr)
    foreign = api.make_ip(host(cidr, 1) + '/24', description='web01')
    mine = backend.allocate(cidr, 'web01')
    assert mine.changed and mine.after['address'] == host(cidr, 2)     # the untagged look-alike is not adopted
    assert backend.release(cidr, name='web01').changed
    with pytest.raises(ConflictError, match='did not make'):
        backend.release(cidr, address=host(cidr, 1))
    assert [obj['id'] for obj in api.ips_in(cidr)] == [foreign['id']]
    assert backend.allocations(pool=cidr) == []


def test_exhausted(backend, server, api):
    small = '10.199.%d.0/29' % (1 if server.name == 'netbox' else 2)
    pool(backend, small)
    addresses = [backend.allocate(small, 'host%d' % number).after['address'] for number in range(6)]
    assert len(set(addresses)) == 6
    for call in (lambda: backend.allocate(small, 'one-too-many'), lambda: backend.peek(small),
                 lambda: backend.allocate(small, 'one-too-many', check_mode=True)):
        with pytest.raises(PoolExhaustedError, match=r'exhausted \(6 of 6 used\)'):
            call()
    assert len(api.ips_in(small)) == 6
    assert backend.pools(small)[0]['free'] == 0


def test_peek(backend, cidr):
    pool(backend, cidr)
    backend.allocate(cidr, 'web01', address=host(cidr, 2))
    peeked = [view['address'] for view in backend.peek(cidr, 3)]
    assert peeked == [host(cidr, 1), host(cidr, 3), host(cidr, 4)]
    assert [backend.allocate(cidr, 'n%d' % number).after['address'] for number in range(3)] == peeked


def test_ipv6_never_hands_out_the_subnet_router_anycast_address(backend, server):
    v6 = '2001:db8:%x::/64' % (0x100 if server.name == 'netbox' else 0x200)
    pool(backend, v6)
    base = v6.split('::', maxsplit=1)[0]
    assert [view['address'] for view in backend.peek(v6, 2)] == [base + '::1', base + '::2']
    assert backend.allocate(v6, 'web01').after['address'] == base + '::1'
    assert backend.pools(v6)[0]['used'] == 1


def test_ensure_and_remove_pool(backend, server, cidr, api):
    created = backend.ensure_pool({'name': cidr, 'cidr': cidr, 'description': 'lab'})
    assert created.changed and created.before == {} and created.after['description'] == 'lab'
    prefixes = api.list('api/ipam/prefixes/', prefix=cidr)
    assert len(prefixes) == 1 and prefixes[0]['description'] == 'lab'
    assert not backend.ensure_pool({'name': cidr, 'cidr': cidr, 'description': 'lab'}).changed
    assert not backend.ensure_pool({'name': cidr, 'cidr': cidr}).changed      # unset options leave the prefix alone
    changed = backend.ensure_pool({'name': cidr, 'cidr': cidr, 'description': 'lab 2', 'gateway': host(cidr, 254)})
    assert changed.changed and changed.after['gateway'] == host(cidr, 254) and changed.after['description'] == 'lab 2'
    assert backend.allocate(cidr, 'web01').after['gateway'] == host(cidr, 254)
    # The gateway is a setting like any other: it moves (its object is made anew) and is cleared with "".
    moved = backend.ensure_pool({'name': cidr, 'cidr': cidr, 'gateway': host(cidr, 253)})
    assert moved.changed and moved.before['gateway'] == host(cidr, 254) and moved.after['gateway'] == host(cidr, 253)
    assert load_backend(server.options).pools(cidr)[0]['gateway'] == host(cidr, 253)
    assert not api.list('api/ipam/ip-addresses/', address=host(cidr, 254))
    assert backend.ensure_pool({'name': cidr, 'cidr': cidr, 'gateway': ''}).after['gateway'] is None
    assert backend.allocate(cidr, 'web01').after['gateway'] is None
    bad_options = [{'reserved': [host(cidr, 5)]}, {'name': 'lab'}, {'min_prefix_length': 28}]
    if server.name == 'nautobot':   # no IP ranges there
        bad_options.append({'ranges': [host(cidr, 10) + '-' + host(cidr, 20)]})
    for bad in bad_options:
        with pytest.raises(InvalidInputError):
            backend.ensure_pool(dict({'name': cidr, 'cidr': cidr}, **bad))
    with pytest.raises(PoolInUseError, match='still holds 1 allocation'):
        backend.remove_pool(cidr)
    removed = backend.remove_pool(cidr, force=True)
    assert removed.changed and removed.before['used'] == 1 and removed.after == {}
    assert api.list('api/ipam/prefixes/', prefix=cidr) == []
    assert not backend.remove_pool(cidr).changed
    with pytest.raises(PoolNotFoundError, match='does not exist'):
        backend.allocate(cidr, 'web01')


def test_netbox_pool_ranges_are_ip_ranges(server, cidr, api):
    """On NetBox a pool's ranges are IP range objects: allocation takes the lowest free address of the first range
    with room, through that range's available-ips; check mode predicts it; a change of ranges is made in place."""
    if server.name != 'netbox':
        pytest.skip('Nautobot has no IP ranges: its pools are whole prefixes (test_ensure_and_remove_pool)')
    first, second = host(cidr, 10) + '-' + host(cidr, 11), host(cidr, 100) + '-' + host(cidr, 101)
    with load_backend(server.options) as checking:     # a check run: the pool and its ranges are only predicted
        predicted_pool = checking.ensure_pool({'name': cidr, 'cidr': cidr, 'ranges': [second, first]}, check_mode=True)
        assert checking.allocate(cidr, 'web00', check_mode=True).after['address'] == host(cidr, 10)
        assert checking.allocate(cidr, 'web01', check_mode=True).after['address'] == host(cidr, 11)
        assert checking.allocate(cidr, 'web02', check_mode=True).after['address'] == host(cidr, 100)
    with load_backend(server.options) as backend:
        created = backend.ensure_pool({'name': cidr, 'cidr': cidr, 'ranges': [second, first]})
        assert created.changed and created.after == predicted_pool.after
        assert created.after['ranges'] == [first, second] and created.after['size'] == 4
        ranges = api.list('api/ipam/ip-ranges/', parent=cidr)
        assert sorted(obj['start_address'] for obj in ranges) == [host(cidr, 10) + '/24', host(cidr, 100) + '/24']
        assert not backend.ensure_pool({'name': cidr, 'cidr': cidr, 'ranges': [first, second]}).changed
        assert not backend.ensure_pool({'name': cidr, 'cidr': cidr}).changed     # no ranges given: left alone
        api.post('api/ipam/ip-addresses/', {'address': host(cidr, 10) + '/24', 'description': 'by hand'})
        predicted = backend.allocate(cidr, 'web01', check_mode=True)
        addresses = [backend.allocate(cidr, name).after['address'] for name in ('web01', 'web02', 'web03')]
        assert addresses == [host(cidr, 11), host(cidr, 100), host(cidr, 101)] and predicted.after['address'] == addresses[0]
        assert backend.pools(cidr)[0]['used'] == 4 and backend.pools(cidr)[0]['free'] == 0
        with pytest.raises(PoolExhaustedError, match='exhausted'):
            backend.allocate(cidr, 'web04')
        with pytest.raises(OutOfPoolError, match='outside the ranges'):
            backend.allocate(cidr, 'web04', address=host(cidr, 50))
        with pytest.raises(PoolInUseError, match=r"address %s held by 'web03' would fall outside" % host(cidr, 101)):
            backend.ensure_pool({'name': cidr, 'cidr': cidr, 'ranges': [first, host(cidr, 99) + '-' + host(cidr, 100)]})
        # A wider second range: one object goes, one comes; the addresses stay.
        third = host(cidr, 100) + '-' + host(cidr, 104)
        widened = backend.ensure_pool({'name': cidr, 'cidr': cidr, 'ranges': [first, third]})
        assert widened.changed and widened.before['ranges'] == [first, second] and widened.after['ranges'] == [first, third]
        assert sorted(obj['end_address'] for obj in api.list('api/ipam/ip-ranges/', parent=cidr)) == [
            host(cidr, 104) + '/24', host(cidr, 11) + '/24']
        assert backend.allocate(cidr, 'web04').after['address'] == host(cidr, 102)
        # Check mode after a predicted change of ranges: held names keep their addresses, new ones come from the new ranges.
        checking = Tasks(server.options, check_mode=True)
        checking('ensure_pool', {'name': cidr, 'cidr': cidr, 'ranges': [first, host(cidr, 100) + '-' + host(cidr, 110)]})
        assert not checking('allocate', cidr, 'web02').changed
        assert checking('allocate', cidr, 'web05').after['address'] == host(cidr, 103)
        assert set(checking.methods) == {'GET'}
        # NetBox cannot hold a one-address IP range: refused before anything is written.
        with pytest.raises(InvalidInputError, match='single address'):
            backend.ensure_pool({'name': cidr, 'cidr': cidr, 'ranges': [first, host(cidr, 120)]})
        assert len(api.list('api/ipam/ip-ranges/', parent=cidr)) == 2
        assert backend.remove_pool(cidr, force=True).changed
        assert api.list('api/ipam/ip-ranges/', parent=cidr) == []
        assert [obj['description'] for obj in api.ips_in(cidr)] == ['by hand']


def test_netbox_ranges_of_a_nested_pool_are_not_its_parents(server, backend):
    if server.name != 'netbox':
        pytest.skip('Nautobot has no IP ranges')
    parent, child = '10.230.0.0/16', '10.230.5.0/24'
    pool(backend, parent)
    assert backend.allocate_prefix(parent, 'site', prefix=child).changed
    backend.ensure_pool({'name': child, 'cidr': child, 'parent': parent, 'ranges': ['10.230.5.10-10.230.5.20']})
    assert backend.pools(child)[0]['ranges'] == ['10.230.5.10-10.230.5.20']
    assert backend.pools(parent)[0]['ranges'] == []
    assert backend.allocate(parent, 'host01').after['address'] == '10.230.0.1'
    assert backend.allocate(child, 'host01').after['address'] == '10.230.5.10'
    assert not backend.allocate(parent, 'host01').changed


def test_prefix_allocation(backend, server, api):
    parent = '10.%d.0.0/16' % (210 if server.name == 'netbox' else 211)
    pool(backend, parent)
    with load_backend(server.options) as checking:     # a check run of its own: its predictions stay its own
        predicted = checking.allocate_prefix(parent, 'berlin', prefix_length=24, check_mode=True)
    assert api.list('api/ipam/prefixes/', within=parent) == []
    berlin = backend.allocate_prefix(parent, 'berlin', prefix_length=24, description='office')
    assert berlin.changed and predicted.after == dict(berlin.after, description=None)
    assert set(berlin.after) == PREFIX_KEYS and berlin.after['prefix'] == parent.replace('0.0/16', '0.0/24')
    assert not backend.allocate_prefix(parent, 'berlin', prefix_length=24).changed
    assert not backend.allocate_prefix(parent, 'berlin').changed
    with pytest.raises(ConflictError, match='already holds'):
        backend.allocate_prefix(parent, 'berlin', prefix_length=25)
    paris = backend.allocate_prefix(parent, 'paris', prefix_length=26)
    assert paris.after['prefix'] == parent.replace('0.0/16', '1.0/26')
    specific = parent.replace('0.0/16', '9.0/24')
    assert backend.allocate_prefix(parent, 'rome', prefix=specific).after['prefix'] == specific
    with pytest.raises(ConflictError, match="overlaps 'rome'"):
        backend.allocate_prefix(parent, 'oslo', prefix=parent.replace('0.0/16', '9.128/25'))
    assert [view['name'] for view in backend.prefixes(pool=parent)] == ['berlin', 'paris', 'rome']
    assert backend.prefixes(name='paris') == [paris.after]
    assert [view['prefix'] for view in backend.peek_prefix(parent, 26, 2)] == [
        parent.replace('0.0/16', '1.64/26'), parent.replace('0.0/16', '1.128/26')]
    # An allocated prefix is a pool in its own right; its allocations block a plain release.
    child = berlin.after['prefix']
    assert backend.allocate(child, 'gw').after['address'] == child.replace('0/24', '1')
    with pytest.raises(PoolInUseError):
        backend.release_prefix(parent, name='berlin')
    assert backend.release_prefix(parent, name='berlin', force=True).changed
    assert not backend.release_prefix(parent, name='berlin').changed
    assert backend.release_prefix(parent, prefix=specific).before['name'] == 'rome'
    assert [view['name'] for view in backend.prefixes(pool=parent)] == ['paris']
    tiny = '10.%d.0.0/30' % (212 if server.name == 'netbox' else 213)
    pool(backend, tiny)
    backend.allocate_prefix(tiny, 'a', prefix_length=31)
    backend.allocate_prefix(tiny, 'b', prefix_length=31)
    with pytest.raises(PoolExhaustedError, match='exhausted'):
        backend.allocate_prefix(tiny, 'c', prefix_length=31)


def test_key_field(server, api, cidr):
    body = {'label': 'IPAM allocator key', 'type': 'text'}
    if server.name == 'nautobot':
        body.update(key='ipam_allocator_key', content_types=['ipam.ipaddress', 'ipam.prefix'])
    else:
        body.update(name='ipam_allocator_key', object_types=['ipam.ipaddress', 'ipam.prefix'])
    api.post('api/extras/custom-fields/', body)
    with load_backend(dict(server.options, key_field='ipam_allocator_key')) as backend:
        pool(backend, cidr)
        first = backend.allocate(cidr, 'web01/eth0', description='front | end')
        assert first.after['name'] == 'web01/eth0' and first.after['description'] == 'front | end'
        assert not backend.allocate(cidr, 'web01/eth0').changed
        backend.allocate(cidr, 'web01/eth01')            # text custom fields match loosely on the server
        objects = api.ips_in(cidr)
        assert sorted(obj['custom_fields']['ipam_allocator_key'] for obj in objects) == ['web01/eth0', 'web01/eth01']
        assert backend.allocations(name='web01/eth0') == [first.after]
        assert backend.release(cidr, name='web01/eth0').changed
        assert [view['name'] for view in backend.allocations(pool=cidr)] == ['web01/eth01']


def test_vrf_or_namespace_keeps_equal_cidrs_apart(server, api, backend, cidr):
    if server.name == 'netbox':
        api.post('api/ipam/vrfs/', {'name': 'blue'})
        scope = {'vrf': 'blue'}
    else:
        api.post('api/ipam/namespaces/', {'name': 'blue'})
        scope = {'namespace': 'blue'}
    with load_backend(dict(server.options, **scope)) as blue:
        pool(backend, cidr)
        pool(blue, cidr)
        assert backend.allocate(cidr, 'web01').after['address'] == host(cidr, 1)
        assert blue.allocate(cidr, 'web01').after['address'] == host(cidr, 1)
        assert blue.allocate(cidr, 'web02').after['address'] == host(cidr, 2)
        assert [view['name'] for view in backend.allocations(pool=cidr)] == ['web01']
        assert [view['name'] for view in blue.allocations(pool=cidr)] == ['web01', 'web02']
        assert blue.release(cidr, name='web01').changed
        assert [view['name'] for view in backend.allocations(pool=cidr)] == ['web01']


def test_pools_without_a_name_lists_the_pools_in_use(backend, cidr):
    pool(backend, cidr)
    backend.allocate(cidr, 'web01')
    assert cidr in [view['name'] for view in backend.pools()]


def test_bad_token_is_a_clear_error(server):
    with load_backend(dict(server.options, token='0123456789abcdef0123456789abcdef01234567')) as backend:
        with pytest.raises(Exception) as caught:
            backend.pools('10.0.0.0/24')
    assert 'check the token' in str(caught.value) and '0123456789abcdef' not in str(caught.value)


def test_allocations_name_their_tag_and_make_it_when_it_is_missing(server, api, cidr):
    with load_backend(server.options) as maker:
        pool(maker, cidr)
    tag_filter = {'tags': TAG} if api.nautobot else {'tag': TAG}
    # No tag (never made, or deleted by someone): the first allocation, its POST refused for the tag, makes it once.
    for tag in api.list('api/extras/tags/', **({'name': TAG} if api.nautobot else {'slug': TAG})):
        assert api.delete('api/extras/tags/%s/' % tag['id']).status_code == 204

    def allocate_in_a_fresh_backend(name):
        paths = []
        with load_backend(server.options) as fresh:
            original = fresh.http.request

            def request(method, path, **kwargs):
                paths.append((method, path.split('?', 1)[0]))
                return original(method, path, **kwargs)

            fresh.http.request = request
            return fresh.allocate(cidr, name), paths

    first, paths = allocate_in_a_fresh_backend('web01')
    assert first.changed and paths.count(('POST', 'api/extras/tags/')) == 1
    # With the tag there, a task never looks the tag up: its filter and its reference use the tag's name.
    second, paths = allocate_in_a_fresh_backend('web02')
    assert second.changed and not [entry for entry in paths if 'tags' in entry[1]]
    assert sorted(obj['address'].split('/')[0] for obj in api.ips_in(cidr, **tag_filter)) == [
        first.after['address'], second.after['address']]
    with load_backend(server.options) as rerun:
        assert not rerun.allocate(cidr, 'web01').changed


# -- the same steps on the file backend: the same Outcomes, views and errors ---------------------------------
#
# Each step below runs on the server and on a YAML file store (pools named by their cidr on both), and the
# two answers are compared whole: ``changed``, ``before`` and ``after`` of an Outcome, or the class and the
# message of an error.  Where the server decides, the difference is the one docs/backends.md names
# ("What differs from the file backend"), asserted as such.

def answer(backend, method, *args, **kwargs):
    """What one backend call gives: an Outcome as (changed, before, after), a list as it is, or (error class, message)."""
    try:
        result = getattr(backend, method)(*args, **kwargs)
    except IpamError as exc:
        return type(exc).__name__, str(exc)
    if isinstance(result, list):
        return result
    return result.changed, result.before, result.after


class Both:
    """One step on the server and on the file store; ``assert`` that both answer the same, and return the answer."""

    def __init__(self, remote, local):
        self.remote = remote
        self.local = local

    def __call__(self, method, *args, **kwargs):
        remote = answer(self.remote, method, *args, **kwargs)
        local = answer(self.local, method, *args, **kwargs)
        assert remote == local, '%s%r on the server: %r; on the file store: %r' % (method, args, remote, local)
        return remote

    def pool(self, cidr, **params):
        return self('ensure_pool', dict(params, name=cidr, cidr=cidr))


def test_same_lowest_free_gateway_and_rerun_as_the_file_store(backend, file_backend, cidr):
    both = Both(backend, file_backend)
    both.pool(cidr, gateway=host(cidr, 1), description='lab')
    assert [both('allocate', cidr, name)[2]['address'] for name in ('a', 'b', 'c')] == [
        host(cidr, 2), host(cidr, 3), host(cidr, 4)]
    assert both('allocate', cidr, 'b')[0] is False
    both('release', cidr, name='a')
    assert both('peek', cidr, 2) == both('peek', cidr, 2)
    assert both('allocate', cidr, 'd')[2]['address'] == host(cidr, 2)      # the lowest free again
    both('allocate', cidr, 'e', address=host(cidr, 1))                     # the gateway: OutOfPoolError on both
    both('allocate', cidr, 'e', address=host(cidr, 255))                   # broadcast
    both('allocate', cidr, 'e', address='192.0.2.1')                       # outside the pool
    both('allocate', cidr, 'e', address=host(cidr, 7) + '/25')             # a prefix length not the pool's
    both('allocations', pool=cidr)
    both('pools', cidr)


def test_reserved_is_the_servers_own_objects(backend, file_backend, cidr, api):
    """Documented difference: a pool on a server has no ``reserved``; the server's own IP addresses keep values
    out of it, so the same addresses are skipped, and asking for one is a conflict rather than "reserved"."""
    with pytest.raises(InvalidInputError, match='reserved'):
        backend.ensure_pool({'name': cidr, 'cidr': cidr, 'reserved': [host(cidr, 2)]})
    pool(backend, cidr, gateway=host(cidr, 1))
    pool(file_backend, cidr, gateway=host(cidr, 1), reserved=[host(cidr, 2), host(cidr, 4) + '-' + host(cidr, 5)])
    for number in (2, 4, 5):
        api.make_ip(host(cidr, number) + '/24', description='kept out by hand')
    both = Both(backend, file_backend)
    assert [both('allocate', cidr, name)[2]['address'] for name in ('a', 'b', 'c')] == [
        host(cidr, 3), host(cidr, 6), host(cidr, 7)]
    both('peek', cidr, 3)
    with pytest.raises(OutOfPoolError, match='reserved'):
        file_backend.allocate(cidr, 'd', address=host(cidr, 4))
    with pytest.raises(ConflictError, match='did not make'):
        backend.allocate(cidr, 'd', address=host(cidr, 4))


def test_same_gateway_changes_as_the_file_store(backend, file_backend, cidr):
    both = Both(backend, file_backend)
    both.pool(cidr)
    both('allocate', cidr, 'web01')
    both.pool(cidr, gateway=host(cidr, 1))             # held by web01: PoolInUseError on both
    assert both.pool(cidr, gateway=host(cidr, 254))[0] is True
    assert both('allocate', cidr, 'web02')[2]['gateway'] == host(cidr, 254)
    assert both.pool(cidr, gateway=host(cidr, 253))[1]['gateway'] == host(cidr, 254)
    assert both.pool(cidr)[0] is False                 # an unset gateway is left alone
    assert both.pool(cidr, gateway='')[2]['gateway'] is None
    assert both('allocate', cidr, 'web03', address=host(cidr, 253))[2]['address'] == host(cidr, 253)
    both('allocations', pool=cidr)
    both('pools', cidr)


def test_same_update_semantics_as_the_file_store(backend, file_backend, server, cidr):
    both = Both(backend, file_backend)
    both.pool(cidr, description='lab')
    assert both.pool(cidr)[0] is False                                      # unset options keep the pool's
    assert both.pool(cidr, description='')[2]['description'] is None        # "" clears
    both('allocate', cidr, 'web01', description='one', dns_name='web01.example.com')
    assert both('allocate', cidr, 'web01')[0] is False                      # None keeps the stored fields
    assert both('allocate', cidr, 'web01', description='two')[2]['dns_name'] == 'web01.example.com'
    assert both('allocate', cidr, 'web01', dns_name='')[2]['dns_name'] is None
    moved = both('allocate', cidr, 'web01', address=host(cidr, 40))       # a move keeps the description
    assert moved[1]['address'] == host(cidr, 1)
    assert moved[2] == dict(moved[1], address=host(cidr, 40), cidr=host(cidr, 40) + '/24')
    both('allocate', cidr, 'web01', address=host(cidr, 40), description='')
    both('release', cidr, name='web01', address=host(cidr, 41))             # names another address: ConflictError
    both('release', cidr, name='web01', address=host(cidr, 40))
    both('release', cidr, name='web01')                                     # nothing left: unchanged on both
    parent = '10.%d.0.0/16' % (222 if server.name == 'netbox' else 223)
    both.pool(parent)
    both('allocate_prefix', parent, 'berlin', prefix_length=24, description='office')
    assert both('allocate_prefix', parent, 'berlin')[0] is False
    both('allocate_prefix', parent, 'berlin', prefix_length=25)             # a length alone does not move it
    assert both('allocate_prefix', parent, 'berlin', description='head office')[2]['description'] == 'head office'
    moved = both('allocate_prefix', parent, 'berlin', prefix=parent.replace('0.0/16', '7.0/24'))
    assert moved[2]['description'] == 'head office'
    both('release_prefix', parent, name='berlin', prefix=parent.replace('0.0/16', '0.0/24'))   # ConflictError
    both('prefixes', pool=parent)


def test_same_best_fit_prefixes_as_the_file_store(backend, file_backend, server):
    """Best fit on every backend: the smallest free block that holds the prefix, not the first one."""
    parent = '10.%d.0.0/16' % (220 if server.name == 'netbox' else 221)
    both = Both(backend, file_backend)
    both.pool(parent)
    for name, length in (('a', 24), ('b', 25), ('c', 25), ('d', 24)):
        both('allocate_prefix', parent, name, prefix_length=length)
    both('release_prefix', parent, name='a')       # frees 0.0/24 ...
    both('release_prefix', parent, name='b')       # ... and 1.0/25, the smaller hole
    assert [view['prefix'] for view in both('peek_prefix', parent, 25, 2)] == [
        parent.replace('0.0/16', '1.0/25'), parent.replace('0.0/16', '0.0/25')]
    assert both('allocate_prefix', parent, 'e', prefix_length=25)[2]['prefix'] == parent.replace('0.0/16', '1.0/25')
    assert both('allocate_prefix', parent, 'f', prefix_length=24)[2]['prefix'] == parent.replace('0.0/16', '0.0/24')
    both('allocate_prefix', parent, 'g', prefix=parent.replace('0.0/16', '2.128/25'))   # overlaps d: ConflictError
    both('allocate_prefix', parent, 'g', prefix_length=8)                                 # outside the pool's lengths
    both('prefixes', pool=parent)
    tiny = '10.%d.0.0/30' % (224 if server.name == 'netbox' else 225)
    both.pool(tiny)
    both('allocate_prefix', tiny, 'x', prefix_length=31)
    both('peek_prefix', tiny, 31, 2)                                           # room for one: exhausted on both
    both('allocate_prefix', tiny, 'y', prefix_length=31)
    both('allocate_prefix', tiny, 'z', prefix_length=31)                       # exhausted on both


def test_same_conflicts_and_exhaustion_as_the_file_store(backend, file_backend, server):
    small = '10.199.%d.0/29' % (11 if server.name == 'netbox' else 12)
    both = Both(backend, file_backend)
    both.pool(small)
    both('allocate', small, 'web02', address=host(small, 2))
    both('allocate', small, 'web03', address=host(small, 2))          # held by web02: ConflictError on both
    for number in range(5):
        both('allocate', small, 'host%d' % number)
    both('peek', small, 2)                                            # one free, two asked for
    both('allocate', small, 'host5')
    both('allocate', small, 'one-too-many')                           # exhausted on both
    both('allocate', small, 'one-too-many', check_mode=True)
    both('peek', small)
    both('pools', small)
    both('remove_pool', small)                                        # still holds allocations: PoolInUseError


def test_addresses_inside_child_prefixes(backend, file_backend, cidr):
    """Documented difference: on a server a child prefix does not take its addresses out of the parent pool."""
    both = Both(backend, file_backend)
    both.pool(cidr)
    both('allocate_prefix', cidr, 'sub', prefix_length=25)
    assert backend.allocate(cidr, 'web01').after['address'] == host(cidr, 1)
    assert file_backend.allocate(cidr, 'web01').after['address'] == host(cidr, 128)


def test_same_ip_ranges_as_the_file_store(server, backend, file_backend, cidr):
    if server.name != 'netbox':
        pytest.skip('Nautobot has no IP ranges: "ranges" is refused there (test_ensure_and_remove_pool)')
    first, second = host(cidr, 10) + '-' + host(cidr, 11), host(cidr, 100) + '-' + host(cidr, 101)
    both = Both(backend, file_backend)
    # In address order: NetBox lists its IP ranges so, where a file store keeps the order the task gave.
    both.pool(cidr, ranges=[first, second])
    both('peek', cidr, 3)
    assert [both('allocate', cidr, name)[2]['address'] for name in ('a', 'b', 'c')] == [
        host(cidr, 10), host(cidr, 11), host(cidr, 100)]
    both('allocate', cidr, 'd', address=host(cidr, 50))                          # outside the ranges
    both.pool(cidr, ranges=[first, host(cidr, 98) + '-' + host(cidr, 99)])        # would strand c: PoolInUseError
    both('allocate', cidr, 'd')
    both('allocate', cidr, 'e')                                                   # exhausted on both
    both.pool(cidr, ranges=[first, host(cidr, 100) + '-' + host(cidr, 104)])
    both('allocate', cidr, 'e')
    both('pools', cidr)
