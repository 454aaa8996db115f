# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The remote backends against a scripted stub server: lost answers, races, resets and outages a real server cannot be
made to produce on demand.  The real servers are exercised in tests/remote/."""

from __future__ import annotations

import pytest

from ansible_collections.ipam.allocator.plugins.module_utils._ipam import backend_remote, http
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.backend import load_backend
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.errors import (
    BackendError,
    InvalidInputError,
    PoolExhaustedError,
    PoolNotFoundError,
)
from ansible_collections.ipam.allocator.tests.unit.plugins.module_utils._ipam._stub_server import Reply, StubServer, page

pytestmark = pytest.mark.skipif(http.requests is None, reason='the remote backends need requests: pip install requests')

TOKEN = 'nbt_stubKey.stubSecretValue0123456789'
POOL = '10.0.0.0/24'
TAG = {'id': 7, 'name': 'ipam-allocator', 'slug': 'ipam-allocator'}
IPS = '/api/ipam/ip-addresses/'
AVAILABLE = '/api/ipam/prefixes/1/available-ips/'


def prefix(**fields):
    obj = {'id': 1, 'prefix': POOL, 'vrf': None, '_depth': 0, 'description': '', 'tags': []}
    obj.update(fields)
    return obj


def ip(address, description='web01', ident=5, tags=({'id': 7},)):
    return {'id': ident, 'address': address, 'vrf': None, 'tags': list(tags), 'description': description, 'dns_name': ''}


@pytest.fixture
def stub():
    server = StubServer().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def quick_pauses(monkeypatch):
    """Record the race backoff instead of sleeping through it."""
    pauses = []
    monkeypatch.setattr(backend_remote, '_pause', pauses.append)
    return pauses


def netbox(stub, name='netbox', token=TOKEN, **options):
    backend = load_backend(dict(backend=name, url=stub.url, token=token, timeout=2, **options))
    backend.http.backoff = 0.01
    return backend


def pool_routes(stub, tag_query=None, **prefix_fields):
    tag_query = tag_query or {'slug': 'ipam-allocator'}
    stub.add('GET', '/api/ipam/prefixes/', page(prefix(**prefix_fields)), query={'prefix': POOL})
    stub.add('GET', IPS, page(), query={'tag': 'gateway'})
    stub.add('GET', IPS, page(), query={'tags': 'gateway'})
    stub.add('GET', '/api/ipam/ip-ranges/', page(), query={'parent': POOL})     # NetBox: the pool's IP ranges
    stub.add('GET', '/api/extras/tags/', page(TAG), query=tag_query)


def find_route(stub, *replies):
    stub.add('GET', IPS, *replies, query={'description__isw': 'web01'})


def test_a_lost_post_that_landed_is_found_by_name_not_repeated(stub):
    pool_routes(stub)
    find_route(stub, page(), page(ip('10.0.0.2/24')))
    stub.add('POST', AVAILABLE, Reply(reset=True))
    outcome = netbox(stub).allocate(POOL, 'web01')
    assert outcome.changed and outcome.after['address'] == '10.0.0.2'
    assert len(stub.calls('POST')) == 1
    assert len(stub.calls('GET', IPS)) >= 2


def test_a_lost_post_that_did_not_land_is_asked_again(stub):
    pool_routes(stub)
    find_route(stub, page())
    stub.add('POST', AVAILABLE, Reply(reset=True), Reply(201, ip('10.0.0.3/24')))
    outcome = netbox(stub).allocate(POOL, 'web01')
    assert outcome.after['address'] == '10.0.0.3'
    posts = stub.calls('POST')
    assert len(posts) == 2
    assert posts[0].body == posts[1].body == {'tags': [{'slug': 'ipam-allocator'}], 'description': 'web01'}


def test_a_lost_post_while_the_server_stays_down_says_rerun(stub):
    pool_routes(stub)
    find_route(stub, page(), Reply(503, {'detail': 'Service Unavailable'}))
    stub.add('POST', AVAILABLE, Reply(502, {'detail': 'Bad Gateway'}))
    with pytest.raises(BackendError) as caught:
        netbox(stub).allocate(POOL, 'web01')
    message = str(caught.value)
    assert 'busy or unavailable' in message and 'rerun the task' in message and 'never makes it twice' in message
    assert TOKEN not in message
    assert len(stub.calls('POST')) == 1


def test_nautobot_race_answer_is_retried_with_backoff(stub, quick_pauses):
    pool_routes(stub, tag_query={'name': 'ipam-allocator'})
    stub.add('GET', IPS, page(), query={'tags': 'ipam-allocator'})
    race = Reply(400, {'__all__': ['IP address 10.0.0.2/24 already exists in 10.0.0.0/24.']})
    stub.add('POST', AVAILABLE, race, race, Reply(201, ip('10.0.0.4/24')))
    outcome = netbox(stub, name='nautobot', token='0123456789abcdef').allocate(POOL, 'web01')
    assert outcome.after['address'] == '10.0.0.4'
    posts = stub.calls('POST')
    assert len(posts) == 3
    assert all(post.body['status'] == {'name': 'Active'} and post.body['tags'] == [{'name': 'ipam-allocator'}] for post in posts)
    assert quick_pauses == [1, 2]
    assert posts[0].headers['Authorization'] == 'Token 0123456789abcdef'


def test_the_race_retry_is_bounded(stub, quick_pauses):
    pool_routes(stub)
    find_route(stub, page())
    stub.add('POST', AVAILABLE, Reply(400, {'address': ['Duplicate IP address found in global table: 10.0.0.2/24']}))
    with pytest.raises(BackendError, match='kept answering'):
        netbox(stub).allocate(POOL, 'web01')
    assert len(stub.calls('POST')) == backend_remote.RACE_ATTEMPTS
    assert len(quick_pauses) == backend_remote.RACE_ATTEMPTS - 1


def test_netbox_409_means_exhausted(stub):
    pool_routes(stub)
    find_route(stub, page())
    stub.add('POST', AVAILABLE, Reply(409, {'detail': 'Insufficient resources are available to satisfy the request'}))
    stub.add('GET', IPS, Reply(200, {'count': 254, 'results': []}), query={'limit': 1})
    stub.add('GET', IPS, Reply(200, {'count': 0, 'results': []}), query={'limit': 1, 'address': '10.0.0.255'})
    with pytest.raises(PoolExhaustedError, match=r"pool '10.0.0.0/24': exhausted \(254 of 254 used\)"):
        netbox(stub).allocate(POOL, 'web01')


def test_nautobot_204_means_exhausted(stub):
    pool_routes(stub, tag_query={'name': 'ipam-allocator'})
    stub.add('GET', IPS, page(), query={'tags': 'ipam-allocator'})
    stub.add('POST', AVAILABLE, Reply(204))
    stub.add('GET', IPS, Reply(200, {'count': 254, 'results': []}), query={'limit': 1})
    with pytest.raises(PoolExhaustedError, match='exhausted'):
        netbox(stub, name='nautobot', token='0123456789abcdef').allocate(POOL, 'web01')


def test_a_server_error_on_post_is_not_repeated(stub):
    pool_routes(stub)
    find_route(stub, page())
    stub.add('POST', AVAILABLE, Reply(500, {'detail': 'integrity error'}))
    with pytest.raises(BackendError, match=r'server error \(500\): integrity error'):
        netbox(stub).allocate(POOL, 'web01')
    assert len(stub.calls('POST')) == 1


def test_a_timeout_names_the_server_and_the_option(stub):
    stub.add('GET', '/api/ipam/prefixes/', Reply(200, {}, delay=1.0))
    backend = load_backend(dict(backend='netbox', url=stub.url, token=TOKEN, timeout=0.2))
    with pytest.raises(BackendError) as caught:
        backend.allocate(POOL, 'web01')
    assert 'did not answer GET /api/ipam/prefixes/ within 0.2 s (timeout): raise the "timeout" option' in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_a_refused_token_is_named_never_shown(stub):
    stub.add('GET', '/api/ipam/prefixes/', Reply(403, {'detail': 'Invalid v2 token'}))
    with pytest.raises(BackendError) as caught:
        netbox(stub).pools(POOL)
    assert 'refused GET /api/ipam/prefixes/ (403 Invalid v2 token): check the token' in str(caught.value)
    assert TOKEN not in str(caught.value) and 'stubSecret' not in str(caught.value)


def test_an_address_the_rules_forbid_is_set_aside(stub):
    # A NetBox "is_pool" prefix hands out its network address; we keep it as a reserved placeholder and ask again.
    pool_routes(stub)
    find_route(stub, page())
    stub.add('POST', AVAILABLE, Reply(201, ip('10.0.0.0/24', ident=8)), Reply(201, ip('10.0.0.1/24', ident=9)))
    stub.add('PATCH', IPS + '8/', Reply(200, {}))
    outcome = netbox(stub).allocate(POOL, 'web01')
    assert outcome.after['address'] == '10.0.0.1'
    patch = stub.calls('PATCH')[0]
    assert patch.body['status'] == 'reserved' and patch.body['tags'] == []
    assert 'network or broadcast address' in patch.body['description']


def test_check_mode_sends_gets_only(stub):
    pool_routes(stub)
    find_route(stub, page())
    stub.add('GET', AVAILABLE, Reply(200, [{'address': '10.0.0.7/24'}]))
    outcome = netbox(stub).allocate(POOL, 'web01', check_mode=True)
    assert outcome.changed and outcome.before == {} and outcome.after['address'] == '10.0.0.7'
    assert {seen.method for seen in stub.seen} == {'GET'}
    assert stub.calls('GET', AVAILABLE)[0].query == {'limit': '3'}


TAG_REFUSED = Reply(400, {'tags': ["Related object not found using the provided attributes: {'slug': 'ipam-allocator'}"]})


def server_without_our_tag(stub):
    """A NetBox with the pool's prefix but no tag ipam-allocator: filters on it are refused, making it works."""
    stub.add('GET', '/api/ipam/prefixes/', page(prefix()), query={'prefix': POOL})
    stub.add('GET', IPS, Reply(400, {'tag': ['Select a valid choice. gateway is not one of the available choices.']}),
             query={'tag': 'gateway'})
    find_route(stub, Reply(400, {'tag': ['Select a valid choice. ipam-allocator is not one of the available choices.']}))
    stub.add('GET', '/api/ipam/ip-ranges/', Reply(400, {'tag': ['Select a valid choice. ipam-allocator is not one of the '
                                                                'available choices.']}), query={'parent': POOL})
    stub.add('GET', '/api/extras/tags/', page(), query={'slug': 'ipam-allocator'})
    stub.add('POST', '/api/extras/tags/', Reply(201, TAG))


def test_a_missing_tag_means_nothing_is_ours_yet_and_is_created_on_write(stub):
    server_without_our_tag(stub)
    # The allocation names its tag; the server refuses the unknown tag, which is then made, and the POST repeated.
    stub.add('POST', AVAILABLE, TAG_REFUSED, Reply(201, ip('10.0.0.1/24')))
    assert netbox(stub).allocate(POOL, 'web01').after['address'] == '10.0.0.1'
    assert stub.calls('POST', '/api/extras/tags/')[0].body['slug'] == 'ipam-allocator'
    assert [call.body['tags'] for call in stub.calls('POST', AVAILABLE)] == [[{'slug': 'ipam-allocator'}]] * 2


def test_unknown_pool_names_the_prefix_and_the_vrf(stub):
    stub.add('GET', '/api/ipam/vrfs/', page({'id': 3, 'name': 'blue'}), query={'name': 'blue'})
    stub.add('GET', '/api/ipam/prefixes/', page(), query={'prefix': POOL, 'vrf_id': 3})
    with pytest.raises(PoolNotFoundError, match=r"Prefix 10.0.0.0/24 does not exist in NetBox in VRF 'blue'"):
        netbox(stub, vrf='blue').allocate(POOL, 'web01')


def test_objects_of_another_vrf_are_never_taken_as_ours(stub):
    # NetBox ignores filters it does not know: the VRF of every object is checked again.
    stub.add('GET', '/api/ipam/prefixes/', page(prefix(vrf={'id': 4})), query={'prefix': POOL})
    assert netbox(stub).pools(POOL) == []


@pytest.mark.parametrize('pool', ['lab', '10.0.0.1/24'])
def test_a_pool_is_a_cidr(stub, pool):
    with pytest.raises(InvalidInputError, match='CIDR|host bits'):
        netbox(stub).allocate(pool, 'web01')
    assert stub.seen == []


@pytest.mark.parametrize('name, token, scheme', [
    ('netbox', 'nbt_abc.def', 'Bearer'),
    ('netbox', '0123456789abcdef0123456789abcdef01234567', 'Token'),
    ('nautobot', 'nbt_looks_like_netbox', 'Token'),
])
def test_auth_scheme(stub, name, token, scheme):
    stub.add('GET', '/api/ipam/prefixes/', page())
    netbox(stub, name=name, token=token).pools(POOL)
    assert stub.seen[0].headers['Authorization'] == '%s %s' % (scheme, token)


def test_url_and_token_from_the_environment(stub, monkeypatch):
    stub.add('GET', '/api/ipam/prefixes/', page())
    monkeypatch.setenv('NETBOX_URL', stub.url)
    monkeypatch.setenv('NETBOX_TOKEN', 'from-netbox-token')
    load_backend({'backend': 'netbox'}).pools(POOL)
    assert stub.seen[-1].headers['Authorization'] == 'Token from-netbox-token'
    monkeypatch.setenv('IPAM_ALLOCATOR_TOKEN', 'from-ipam-allocator-token')
    load_backend({'backend': 'netbox'}).pools(POOL)
    assert stub.seen[-1].headers['Authorization'] == 'Token from-ipam-allocator-token'


@pytest.mark.parametrize('name, variable', [('netbox', 'NETBOX_URL'), ('nautobot', 'NAUTOBOT_URL')])
def test_missing_url_or_token(monkeypatch, name, variable):
    for key in ('NETBOX_URL', 'NAUTOBOT_URL', 'IPAM_ALLOCATOR_URL', 'NETBOX_TOKEN', 'NAUTOBOT_TOKEN', 'IPAM_ALLOCATOR_TOKEN'):
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(BackendError, match=variable):
        load_backend({'backend': name, 'token': 'x'})
    with pytest.raises(BackendError, match='token'):
        load_backend({'backend': name, 'url': 'https://ipam.example.com'})


def test_plain_http_to_another_host_warns_through_the_backend():
    backend = load_backend({'backend': 'netbox', 'url': 'http://netbox.example.com', 'token': TOKEN})
    assert len(backend.warnings) == 1 and 'plain http' in backend.warnings[0]
    assert load_backend({'backend': 'netbox', 'url': 'https://netbox.example.com', 'token': TOKEN}).warnings == []


@pytest.mark.parametrize('name, option', [('netbox', 'namespace'), ('nautobot', 'vrf')])
def test_the_other_servers_scope_option_is_refused(name, option):
    with pytest.raises(InvalidInputError, match=option):
        load_backend({'backend': name, 'url': 'https://ipam.example.com', 'token': 'x', option: 'blue'})


def test_names_the_server_cannot_keep_are_refused(stub):
    pool_routes(stub)
    backend = netbox(stub)
    with pytest.raises(InvalidInputError, match='white space'):
        backend.allocate(POOL, ' web01')
    with pytest.raises(InvalidInputError, match='key_field'):
        backend.allocate(POOL, 'web01 | eth0')
    assert not stub.calls('POST')


def test_making_a_missing_tag_does_not_use_up_a_write_attempt(stub, quick_pauses):
    server_without_our_tag(stub)
    # Two answers lost on the way (nothing landed), then the tag refused, then made: all within the write attempts.
    stub.add('POST', AVAILABLE, Reply(503, {'detail': 'Service Unavailable'}), Reply(503, {'detail': 'Service Unavailable'}),
             TAG_REFUSED, Reply(201, ip('10.0.0.1/24')))
    assert netbox(stub).allocate(POOL, 'web01').after['address'] == '10.0.0.1'
    assert len(stub.calls('POST', AVAILABLE)) == 4 and len(stub.calls('POST', '/api/extras/tags/')) == 1
