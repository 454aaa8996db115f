# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The remote backends against a scripted stub server: lost answers, races, resets and outages a real server cannot be
made to produce on demand.  The real servers are exercised in tests/remote/."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from ansible_collections.ipam.allocator.plugins.module_utils._ipam.remote import http, server as remote_writes
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.registry import load_backend
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.core.errors import (
    BackendError,
    ConflictError,
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
    """Record the backend's pauses (a lost answer, a lost race) instead of sleeping through them; no transport backoff."""
    pauses = []
    monkeypatch.setattr(http.HttpClient, 'pause', lambda _client, retry: pauses.append(retry))
    monkeypatch.setattr(http, 'backoff_seconds', lambda *_args: 0)
    return pauses


def netbox(stub, name='netbox', token=TOKEN, timeout=2, **options):
    return load_backend(dict(backend=name, url=stub.url, token=token, timeout=timeout, **options))


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
    find_route(stub, page(), page(), page(ip('10.0.0.3/24')))    # before, after the lost answer, confirming
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
    stub.add('GET', IPS, page(), page(ip('10.0.0.4/24')), query={'tags': 'ipam-allocator'})
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
    assert len(stub.calls('POST')) == remote_writes.RACE_ATTEMPTS
    assert len(quick_pauses) == remote_writes.RACE_ATTEMPTS - 1


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
    find_route(stub, page(), page(ip('10.0.0.1/24', ident=9)))
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
    # Check mode plans on the server's view of the pool: every IP address object in it, anyone's.
    stub.add('GET', IPS, page(*(ip('10.0.0.%d/24' % value, description='', ident=value, tags=()) for value in range(1, 7))),
             query={'parent': POOL})
    outcome = netbox(stub).allocate(POOL, 'web01', check_mode=True)
    assert outcome.changed and outcome.before == {} and outcome.after['address'] == '10.0.0.7'
    assert {seen.method for seen in stub.seen} == {'GET'}


TAG_REFUSED = Reply(400, {'tags': ["Related object not found using the provided attributes: {'slug': 'ipam-allocator'}"]})


NO_TAG = Reply(400, {'tag': ['Select a valid choice. ipam-allocator is not one of the available choices.']})


def server_without_our_tag(stub, *finds):
    """A NetBox with the pool's prefix but no tag ipam-allocator: filters on it are refused, making it works.

    ``finds``: the answers to looking the name up, until the tag is made."""
    stub.add('GET', '/api/ipam/prefixes/', page(prefix()), query={'prefix': POOL})
    stub.add('GET', IPS, Reply(400, {'tag': ['Select a valid choice. gateway is not one of the available choices.']}),
             query={'tag': 'gateway'})
    find_route(stub, *(finds or (NO_TAG,)), page(ip('10.0.0.1/24')))
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
    server_without_our_tag(stub, NO_TAG, NO_TAG, NO_TAG)
    # Two answers lost on the way (nothing landed), then the tag refused, then made: all within the write attempts.
    stub.add('POST', AVAILABLE, Reply(503, {'detail': 'Service Unavailable'}), Reply(503, {'detail': 'Service Unavailable'}),
             TAG_REFUSED, Reply(201, ip('10.0.0.1/24')))
    assert netbox(stub).allocate(POOL, 'web01').after['address'] == '10.0.0.1'
    assert len(stub.calls('POST', AVAILABLE)) == 4 and len(stub.calls('POST', '/api/extras/tags/')) == 1


# -- secrets (issue 12, items 1-3) ------------------------------------------------------------

@pytest.mark.parametrize('given', [TOKEN + '\n', ' ' + TOKEN, '\t%s\r\n' % TOKEN])
def test_a_token_with_white_space_around_it_is_sent_without(stub, given):
    # A "token: !vault |" block ends with a newline; requests would refuse the header and quote it in its error.
    stub.add('GET', '/api/ipam/prefixes/', page())
    netbox(stub, token=given).pools(POOL)
    assert stub.seen[0].headers['Authorization'] == 'Bearer ' + TOKEN


@pytest.mark.parametrize('given', ['nbt_stubKey.stub Secret0123', 'nbt_stubKey.stub\nSecret0123', 'tökenSecret0123'])
def test_a_token_with_white_space_inside_is_refused_unseen(stub, given):
    with pytest.raises(BackendError, match='white space, control or non-ASCII characters inside it') as caught:
        netbox(stub, token=given)
    for part in ('stub', 'Secret', '0123'):
        assert part not in str(caught.value)
    assert stub.seen == []


def echo_of(forms):
    """A 403 whose detail quotes the request's token in each of ``forms`` (a callable of the header's token)."""
    return Reply(403, lambda seen: {'detail': ' / '.join(form(seen.headers['Authorization'].split(' ', 1)[1]) for form in forms)})


@pytest.mark.parametrize('token', ['Zq7xKw', TOKEN, 'ab"c\\def/ghi+jkl=mn%op'])
def test_a_token_the_server_echoes_is_scrubbed_in_every_form(stub, token):
    forms = [str, repr, json.dumps, lambda text: quote(text, safe=''), lambda text: "'Token %s\\n'" % text,
             lambda text: text[:len(text) // 2 + 4], lambda text: text[-9:]]
    stub.add('GET', '/api/ipam/prefixes/', echo_of(forms))
    with pytest.raises(BackendError) as caught:
        netbox(stub, token=token).pools(POOL)
    message = str(caught.value)
    assert 'refused GET /api/ipam/prefixes/ (403 ********' in message
    for form in forms:
        shown = form(token)
        assert shown not in message if len(token) >= 8 or form in (str, repr) else True, (shown, message)
    assert token not in message and repr(token)[1:-1] not in message


def test_a_short_token_is_scrubbed_but_other_words_are_not(stub):
    stub.add('GET', '/api/ipam/prefixes/', Reply(403, {'detail': 'Invalid token Zq7xKw (Zq7xKwx is not it either)'}))
    with pytest.raises(BackendError) as caught:
        netbox(stub, token='Zq7xKw').pools(POOL)
    assert 'Invalid token ******** (Zq7xKwx is not it either)' in str(caught.value)


def test_a_token_cut_by_a_long_message_leaves_no_part_of_it(stub):
    # The server's words are cut at http.MAX_MESSAGE characters; the cut must not fall inside a token left readable.
    for cut in range(3, len(TOKEN) - 3, 7):
        stub.add('GET', '/api/ipam/prefixes/', Reply(400, {'detail': 'x' * (http.MAX_MESSAGE - cut - 1) + ' ' + TOKEN}))
        with pytest.raises(BackendError) as caught:
            netbox(stub).pools(POOL)
        assert TOKEN[:cut] not in str(caught.value)[-60:], cut


def test_a_token_in_what_the_server_holds_is_scrubbed_too(stub):
    # Messages quote the server's objects (the holder of an address and its description), not only its answers.
    pool_routes(stub)
    find_route(stub, page())
    stub.add('GET', IPS, page(ip('10.0.0.9/24', description='ask %s' % TOKEN, ident=3, tags=())), query={'parent': POOL})
    stub.add('GET', IPS, page(), query={'tag': 'gateway'})     # the gateway's query names the pool too
    with pytest.raises(ConflictError) as caught:
        netbox(stub).allocate(POOL, 'web01', address='10.0.0.9')
    assert "it is already held by NetBox IP address 10.0.0.9/24 (id 3, description 'ask ********')" in str(caught.value)


def test_credentials_in_the_url_are_refused_unseen(stub):
    url = stub.url.replace('http://', 'http://admin:pa55w0rdSecret@')
    with pytest.raises(BackendError, match='user name or password') as caught:
        load_backend(dict(backend='netbox', url=url, token=TOKEN))
    assert 'pa55w0rd' not in str(caught.value) and 'admin' not in str(caught.value)
    assert stub.seen == []


# -- one name, one object (issue 12, items 4-5) ---------------------------------------------------

def test_a_post_that_lands_after_its_timeout_is_not_allocated_twice(stub, quick_pauses):
    # The first POST is answered after the client gave up (it landed: id 5); the name is not found yet, so the POST is
    # sent again (id 6).  Confirming by name finds both: the first made is kept, the other deleted, the task says so.
    pool_routes(stub)
    find_route(stub, page(), page(), page(ip('10.0.0.2/24', ident=5), ip('10.0.0.3/24', ident=6)),
               page(ip('10.0.0.2/24', ident=5)))
    stub.add('POST', AVAILABLE, Reply(201, ip('10.0.0.2/24', ident=5), delay=0.8), Reply(201, ip('10.0.0.3/24', ident=6)))
    stub.add('DELETE', IPS + r'\d+/', Reply(204))
    backend = netbox(stub, timeout=0.4)
    outcome = backend.allocate(POOL, 'web01')
    assert outcome.changed and outcome.after['address'] == '10.0.0.2'
    assert [call.path for call in stub.calls('DELETE')] == [IPS + '6/']
    assert len(stub.calls('POST')) == 2 and quick_pauses == [1]
    assert len(backend.warnings) == 1
    assert "held 2 objects for 'web01'" in backend.warnings[0] and 'kept 10.0.0.2/24 (id 5)' in backend.warnings[0]
    # The next run finds the one object left.
    assert netbox(stub).allocate(POOL, 'web01').changed is False


@pytest.mark.parametrize('check_mode', [False, True])
def test_two_objects_for_one_name_converge_on_the_first_made(stub, check_mode):
    # What an earlier run (or another controller at the same moment) left: two addresses for "web01".
    pool_routes(stub)
    find_route(stub, page(ip('10.0.0.7/24', ident=9), ip('10.0.0.4/24', ident=12)))
    stub.add('DELETE', IPS + r'\d+/', Reply(204))
    backend = netbox(stub)
    outcome = backend.allocate(POOL, 'web01', check_mode=check_mode)
    assert outcome.changed is False and outcome.after['address'] == '10.0.0.7'
    assert [call.path for call in stub.calls('DELETE')] == ([] if check_mode else [IPS + '12/'])
    assert ('a real run keeps 10.0.0.7/24 (id 9)' if check_mode else 'kept 10.0.0.7/24 (id 9)') in backend.warnings[0]


def test_nautobot_keeps_the_object_created_first(stub):
    pool_routes(stub, tag_query={'name': 'ipam-allocator'})
    later = dict(ip('10.0.0.2/24', ident='9f0c'), created='2026-12-06T23:40:01.000002Z')
    earlier = dict(ip('10.0.0.3/24', ident='a1b2'), created='2026-12-06T23:40:01Z')
    stub.add('GET', IPS, page(later, earlier), query={'tags': 'ipam-allocator'})
    stub.add('DELETE', IPS + '9f0c/', Reply(204))
    backend = netbox(stub, name='nautobot', token='0123456789abcdef')
    assert backend.allocate(POOL, 'web01').after['address'] == '10.0.0.3'
    assert [call.path for call in stub.calls('DELETE')] == [IPS + '9f0c/']


def test_another_task_that_made_the_name_first_wins(stub):
    # Two controllers allocate "web01" at once: ours (id 8) was made after theirs (id 7), so ours goes and both report theirs.
    pool_routes(stub)
    find_route(stub, page(), page(ip('10.0.0.1/24', ident=7), ip('10.0.0.2/24', ident=8)))
    stub.add('POST', AVAILABLE, Reply(201, ip('10.0.0.2/24', ident=8)))
    stub.add('DELETE', IPS + '8/', Reply(204))
    outcome = netbox(stub).allocate(POOL, 'web01')
    assert outcome.after['address'] == '10.0.0.1'
    assert [call.path for call in stub.calls('DELETE')] == [IPS + '8/']


# -- answers that break the contract (issue 12, items 6-8) -----------------------------------------

@pytest.mark.parametrize('answer, said', [
    ('10.9.9.9/24', 'outside the pool cidr 10.0.0.0/24'),
    ('10.0.0.9/16', 'not of the prefix length of the pool (/24)'),
    ('2001:db8::9/24', 'not IPv4 like the pool'),
])
def test_an_address_outside_the_pool_stops_at_once_and_is_undone(stub, answer, said):
    pool_routes(stub)
    find_route(stub, page())
    stub.add('POST', AVAILABLE, Reply(201, ip(answer, ident=8)))
    stub.add('DELETE', IPS + '8/', Reply(204))
    with pytest.raises(BackendError) as caught:
        netbox(stub).allocate(POOL, 'web01')
    assert 'NetBox answered POST /api/ipam/prefixes/1/available-ips/ with %s, which is %s' % (answer, said) in str(caught.value)
    assert 'What this task made was deleted and nothing is allocated' in str(caught.value) and 'too many' not in str(caught.value)
    assert len(stub.calls('POST')) == 1 and not stub.calls('PATCH')
    assert [call.path for call in stub.calls('DELETE')] == [IPS + '8/']


def test_a_set_aside_address_offered_again_stops(stub):
    pool_routes(stub)
    find_route(stub, page())
    stub.add('POST', AVAILABLE, Reply(201, ip('10.0.0.0/24', ident=8)), Reply(201, ip('10.0.0.0/24', ident=9)))
    stub.add('PATCH', IPS + '8/', Reply(200, {}))
    stub.add('DELETE', IPS + r'\d+/', Reply(204))
    with pytest.raises(BackendError, match='offered again after it was kept free'):
        netbox(stub).allocate(POOL, 'web01')
    assert len(stub.calls('POST')) == 2 and len(stub.calls('PATCH')) == 1
    # The failed task leaves the server as it was: the placeholder it made goes too.
    assert sorted(call.path for call in stub.calls('DELETE')) == [IPS + '8/', IPS + '9/']


def test_a_prefix_made_elsewhere_than_asked_is_undone(stub):
    # The engine chooses the best fit (10.0.0.0/26 of an empty pool); the server answers with another prefix.
    pool_routes(stub)
    stub.add('GET', '/api/ipam/prefixes/', page(), query={'description__isw': 'site1'})
    stub.add('GET', '/api/ipam/prefixes/', page(), query={'within': POOL, 'depth': '1'})
    stub.add('POST', '/api/ipam/prefixes/', Reply(201, prefix(id=4, prefix='10.1.0.0/26', _depth=1, tags=[{'id': 7}],
                                                              description='site1')))
    stub.add('DELETE', '/api/ipam/prefixes/4/', Reply(204))
    with pytest.raises(BackendError, match=r'answered POST /api/ipam/prefixes/ for 10.0.0.0/26 with 10.1.0.0/26'):
        netbox(stub).allocate_prefix(POOL, 'site1', prefix_length=26)
    assert stub.calls('POST')[0].body['prefix'] == '10.0.0.0/26'
    assert len(stub.calls('DELETE')) == 1


def endless(count):
    """A list page whose "next" link always leads to another page."""
    return Reply(200, lambda seen: {'count': count, 'next': '%s?limit=1&offset=%d' % (seen.path, int(seen.query.get('offset', 0)) + 1),
                                    'results': [prefix()]})


@pytest.mark.parametrize('count', [1, 3])
def test_pages_that_never_end_are_bounded_by_their_count(stub, count):
    stub.add('GET', '/api/ipam/prefixes/', endless(count))
    with pytest.raises(BackendError) as caught:
        netbox(stub).pools(POOL)
    assert 'answered GET /api/ipam/prefixes/ with 200' in str(caught.value)
    assert 'its "next" link leads on after %d of the %d results it counts' % (count, count) in str(caught.value)
    assert len(stub.calls('GET')) == count


def test_pages_are_bounded_in_number(stub, monkeypatch):
    monkeypatch.setattr(http, 'MAX_PAGES', 5)
    stub.add('GET', '/api/ipam/prefixes/', endless(10 ** 9))
    with pytest.raises(BackendError, match='more than 5 pages of results'):
        netbox(stub).pools(POOL)
    assert len(stub.calls('GET')) == 5


HTML = Reply(200, raw=b'<!DOCTYPE html><html><head><title>Sign in</title></head><body>Proxy login</body></html>',
             headers={'Content-Type': 'text/html; charset=utf-8'})


@pytest.mark.parametrize('path, method', [('/api/ipam/prefixes/', 'pools'), (AVAILABLE, 'allocate')])
def test_a_200_that_is_not_json_is_a_clear_error(stub, path, method):
    pool_routes(stub)
    find_route(stub, page())
    stub.add('POST' if method == 'allocate' else 'GET', path, HTML, **({} if method == 'allocate' else {'query': {'prefix': POOL}}))
    backend = netbox(stub)
    with pytest.raises(BackendError) as caught:
        backend.allocate(POOL, 'web01') if method == 'allocate' else backend.pools(POOL)
    message = str(caught.value)
    assert 'answered %s %s with %s, which is not what its API returns: not JSON (text/html; charset=utf-8, starting ' % (
        'POST' if method == 'allocate' else 'GET', path, 200) in message
    assert "'<!DOCTYPE html><html><head><title>Sign in</title>" in message and 'not a proxy or a login page' in message


@pytest.mark.parametrize('body, said', [
    ({'results': 'none'}, 'expected a page of results'),
    ({'count': 1, 'next': None, 'results': [{'id': 1}]}, '"prefix" is None, not a prefix'),
    ({'count': 1, 'next': None, 'results': [['10.0.0.0/24']]}, 'an item is list, not an object'),
    ({'count': 1, 'next': None, 'results': [prefix(description=7)]}, '"description" is 7, not a str'),
    ([1, 2], 'an item is int, not an object'),
])
def test_an_answer_of_the_wrong_shape_is_a_clear_error(stub, body, said):
    stub.add('GET', '/api/ipam/prefixes/', Reply(200, body))
    with pytest.raises(BackendError) as caught:
        netbox(stub).pools(POOL)
    assert 'answered GET /api/ipam/prefixes/ with 200, which is not what its API returns: %s' % said in str(caught.value)


def test_a_created_object_of_the_wrong_shape_is_a_clear_error(stub):
    pool_routes(stub)
    find_route(stub, page())
    stub.add('POST', AVAILABLE, Reply(201, {'id': 8, 'display': 'something'}))
    with pytest.raises(BackendError, match=r'answered POST /api/ipam/prefixes/1/available-ips/ with 201, .*"address" is None'):
        netbox(stub).allocate(POOL, 'web01')
