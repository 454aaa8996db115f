# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The HTTP layer against a local stub server: retries, timeouts, resets, TLS, and a token that never leaks."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
import time

import pytest

from ansible_collections.ipam.allocator.plugins.module_utils._ipam.remote import http
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.core.errors import BackendError
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.remote.http import HttpClient, HttpError
from ansible_collections.ipam.allocator.tests.unit.plugins.module_utils._ipam._stub_server import Reply, StubServer

pytestmark = pytest.mark.skipif(http.requests is None, reason='the remote backends need requests: pip install requests')

TOKEN = 'nbt_sEcReTkEy.0123456789abcdefSECRETSECRET'


@pytest.fixture
def stub():
    server = StubServer().start()
    yield server
    server.stop()


def client(url, **kwargs):
    kwargs.setdefault('attempts', 3)
    kwargs.setdefault('backoff', 0.01)
    kwargs.setdefault('timeout', 2)
    return HttpClient(url, TOKEN, 'Bearer', product='NetBox', **kwargs)


def failure(call):
    with pytest.raises(HttpError) as caught:
        call()
    assert TOKEN not in str(caught.value)
    assert 'SECRET' not in str(caught.value)
    # Nothing of the library's exception (which may quote the request) is chained for a traceback to show.
    assert caught.value.__context__ is None and caught.value.__cause__ is None
    return caught.value


def test_sends_token_and_json(stub):
    stub.add('GET', '/api/status/', Reply(200, {'ok': True}))
    answer = client(stub.url).get('api/status/')
    assert answer.status == 200 and answer.data == {'ok': True}
    assert stub.seen[0].headers['Authorization'] == 'Bearer ' + TOKEN
    assert stub.seen[0].headers['Accept'] == 'application/json'


def test_503_then_success_is_retried(stub):
    stub.add('GET', '/api/x/', Reply(503, {'detail': 'busy'}), Reply(200, {'ok': 1}))
    assert client(stub.url).get('api/x/').data == {'ok': 1}
    assert len(stub.calls('GET')) == 2


def test_429_honours_retry_after_then_succeeds(stub):
    stub.add('GET', '/api/x/', Reply(429, {'detail': 'slow down'}, headers={'Retry-After': '0'}), Reply(200, [1]))
    assert client(stub.url).get('api/x/').data == [1]
    assert len(stub.calls('GET')) == 2


def test_gateway_errors_give_up_after_bounded_attempts(stub):
    stub.add('GET', '/api/x/', Reply(502, {'detail': 'bad gateway'}))
    error = failure(lambda: client(stub.url, attempts=4).get('api/x/'))
    assert len(stub.calls('GET')) == 4
    assert error.status == 502 and error.transient
    assert 'busy or unavailable' in str(error) and '502' in str(error)


def test_backoff_is_jittered_and_bounded():
    delays = [http.backoff_seconds(retry, 0.5, 4.0) for retry in range(1, 10)]
    assert all(0.25 <= delay <= 6.0 for delay in delays)
    assert len(set(delays)) > 1


def test_one_pause_for_the_transport_and_the_backend(monkeypatch):
    # urllib3's Retry on the session and the backend's pause after a lost answer wait by the same function.
    asked = []
    monkeypatch.setattr(http, 'backoff_seconds', lambda retry, base, ceiling: asked.append((retry, base, ceiling)) or 0)
    api = client('http://127.0.0.1:9', backoff=0.3)
    api.pause(2)
    retry = api._session.get_adapter('http://127.0.0.1:9').max_retries
    assert retry.new(history=(None, None, None)).get_backoff_time() == 0
    assert asked == [(2, 0.3, http._Retry.BACKOFF_MAX), (3, 0.3, http._Retry.BACKOFF_MAX)]


def free_port():
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


def test_a_post_is_repeated_when_the_connection_failed_before_it_was_sent():
    # Nothing reached the server (connection refused: it starts late), so sending it again cannot make anything twice.
    port = free_port()
    started = []

    def start_late():
        started.append(StubServer(port))
        started[0].add('POST', '/api/x/', Reply(201, {'id': 1}))
        started[0].start()

    late = threading.Timer(0.3, start_late)
    late.start()
    try:
        assert client('http://127.0.0.1:%d' % port, attempts=8, backoff=0.1).post('api/x/', {'a': 1}).data == {'id': 1}
    finally:
        late.join()
        if started:
            started[0].stop()
    assert len(started[0].calls('POST')) == 1


def test_retry_after_is_honoured_within_a_bound(stub, monkeypatch):
    monkeypatch.setattr(http._Retry, 'RETRY_AFTER_MAX', 0.2)
    stub.add('GET', '/api/x/', Reply(503, {'detail': 'maintenance'}, headers={'Retry-After': '3600'}),
             Reply(429, {'detail': 'slow down'}, headers={'Retry-After': 'not a date'}), Reply(200, {'ok': 3}))
    started = time.monotonic()
    assert client(stub.url).get('api/x/').data == {'ok': 3}
    assert time.monotonic() - started < 2


def test_connection_reset_on_get_is_retried(stub):
    stub.add('GET', '/api/x/', Reply(reset=True), Reply(200, {'ok': 2}))
    assert client(stub.url).get('api/x/').data == {'ok': 2}
    assert len(stub.calls('GET')) == 2


def test_post_is_never_repeated_blindly(stub):
    stub.add('POST', '/api/x/', Reply(reset=True), Reply(201, {'id': 1}))
    error = failure(lambda: client(stub.url).post('api/x/', {'a': 1}))
    assert error.transient and error.status is None
    assert len(stub.calls('POST')) == 1
    stub.add('POST', '/api/y/', Reply(503, {'detail': 'down'}), Reply(201, {'id': 1}))
    error = failure(lambda: client(stub.url).post('api/y/', {'a': 1}))
    assert error.transient and error.status == 503
    assert len(stub.calls('POST', '/api/y/')) == 1


def test_delete_and_patch_are_retried(stub):
    stub.add('DELETE', '/api/x/1/', Reply(504, {'detail': 'gateway timeout'}), Reply(204))
    stub.add('PATCH', '/api/x/1/', Reply(reset=True), Reply(200, {'id': 1}))
    api = client(stub.url)
    assert api.delete('api/x/1/').status == 204
    assert api.patch('api/x/1/', {'description': 'a'}).data == {'id': 1}
    assert len(stub.calls('DELETE')) == 2 and len(stub.calls('PATCH')) == 2


def test_timeout_is_clear_and_not_repeated(stub):
    stub.add('GET', '/api/slow/', Reply(200, {'late': True}, delay=1.5))
    started = time.monotonic()
    error = failure(lambda: client(stub.url, timeout=0.3).get('api/slow/'))
    assert time.monotonic() - started < 1.4
    assert 'did not answer GET /api/slow/ within 0.3 s (timeout)' in str(error)
    assert len(stub.calls('GET')) == 1


def test_server_error_500_is_not_retried_and_quotes_the_server(stub):
    stub.add('GET', '/api/x/', Reply(500, {'detail': 'database is on fire'}))
    error = failure(lambda: client(stub.url).get('api/x/'))
    assert error.status == 500 and not error.transient
    assert 'server error (500): database is on fire' in str(error)
    assert len(stub.calls('GET')) == 1


@pytest.mark.parametrize('status, detail', [(401, 'Authentication credentials were not provided.'), (403, 'Invalid v2 token')])
def test_token_refused(stub, status, detail):
    stub.add('GET', '/api/x/', Reply(status, {'detail': detail}))
    error = failure(lambda: client(stub.url).get('api/x/'))
    assert 'refused GET /api/x/ (%d %s): check the token' % (status, detail) in str(error)


def test_validation_error_quotes_fields(stub):
    stub.add('POST', '/api/ipam/ip-addresses/', Reply(400, {'address': ['Duplicate IP address found in global table: 10.0.0.5/24'],
                                                            '__all__': ['Something else.']}))
    error = failure(lambda: client(stub.url).post('api/ipam/ip-addresses/', {'address': '10.0.0.5/24'}))
    assert error.status == 400
    assert 'rejected POST /api/ipam/ip-addresses/ (400): address: Duplicate IP address found in global table: 10.0.0.5/24; ' \
           'Something else.' in str(error)


def test_not_found(stub):
    stub.add('GET', '/api/ipam/prefixes/9/', Reply(404, {'detail': 'No Prefix matches the given query.'}))
    error = failure(lambda: client(stub.url).get('api/ipam/prefixes/9/'))
    assert error.status == 404 and 'has no /api/ipam/prefixes/9/ (404 No Prefix matches the given query.)' in str(error)


def test_token_echoed_by_the_server_is_scrubbed(stub):
    stub.add('GET', '/api/x/', Reply(400, {'detail': 'bad header Bearer %s' % TOKEN}))
    error = failure(lambda: client(stub.url).get('api/x/'))
    assert '********' in str(error)
    assert TOKEN not in repr(error.args)


def test_words_that_share_a_few_characters_with_the_token_are_not_masked(stub):
    # The test servers' NetBox token is made of words: "llocator" is 8 of its characters, and of "ipam.allocator".
    token = 'nbt_ipamAllocKey.ipamAllocatorTestSecret0123456789abcdefgh'
    stub.add('GET', '/api/x/', Reply(400, {'detail': 'which ipam.allocator did not make (ipam-allocator); 0123 abcd'}))
    with pytest.raises(HttpError) as caught:
        HttpClient(stub.url, token, product='NetBox', attempts=1).get('api/x/')
    assert 'which ipam.allocator did not make (ipam-allocator); 0123 abcd' in str(caught.value)


def test_unreachable_server(stub):
    port = stub.server.server_address[1]
    stub.stop()
    error = failure(lambda: client('http://127.0.0.1:%d' % port).get('api/x/'))
    assert error.transient and error.status is None
    assert str(error).startswith('Cannot reach NetBox at http://127.0.0.1:%d (' % port)
    assert 'check the url and that the server is up' in str(error)


def test_redirect_is_not_followed(stub):
    stub.add('POST', '/api/x/', Reply(301, None, headers={'Location': 'https://127.0.0.1/api/x/'}))
    error = failure(lambda: client(stub.url).post('api/x/', {}))
    assert 'redirected POST /api/x/ to https://127.0.0.1/api/x/' in str(error)


def test_paging_follows_next_on_our_own_host(stub):
    # The server may spell itself differently (a proxy): only the path and query of "next" are used.
    stub.add('GET', '/api/things/', Reply(200, {'count': 3, 'next': 'http://ipam.example.invalid/api/things/?limit=2&offset=2',
                                                'results': [1, 2]}), query={'limit': 1000})
    stub.add('GET', '/api/things/', Reply(200, {'count': 3, 'next': None, 'results': [3]}), query={'offset': 2})
    assert list(client(stub.url).paged('api/things/')) == [1, 2, 3]


def test_base_path_is_kept(stub):
    stub.add('GET', '/netbox/api/status/', Reply(200, {}))
    assert client(stub.url + '/netbox/').get('/api/status/').status == 200


@pytest.mark.parametrize('url, warns', [
    ('http://ipam.example.com', True),
    ('http://10.1.2.3:8000', True),
    ('https://ipam.example.com', False),
    ('http://127.0.0.1:8000', False),
    ('http://localhost', False),
    ('http://[::1]:8080', False),
])
def test_plain_http_to_another_host_warns(url, warns):
    warnings = client(url).warnings
    assert bool(warnings) is warns
    if warns:
        assert 'unencrypted' in warnings[0] and TOKEN not in warnings[0]


@pytest.mark.parametrize('url', ['netbox.example.com', 'ftp://x', 'http://'])
def test_bad_url(url):
    with pytest.raises(BackendError, match='Invalid url'):
        client(url)


@pytest.mark.parametrize('url', ['http://user:pa55word@127.0.0.1:9/', 'http://pa55word@127.0.0.1:9', 'https://:pa55word@[::1]/nb'])
def test_credentials_in_the_url_are_refused_unseen(url):
    # requests would send them as Basic auth instead of the token, and check-mode predictions would carry them.
    with pytest.raises(BackendError, match='holds a user name or password') as caught:
        client(url)
    assert 'pa55word' not in str(caught.value)


def test_without_requests_says_how_to_install(monkeypatch):
    monkeypatch.setattr(http, 'requests', None)
    with pytest.raises(BackendError, match='pip install requests'):
        client('https://netbox.example.com')


# -- TLS ---------------------------------------------------------------------------------

@pytest.fixture(scope='module')
def tls_server(tmp_path_factory):
    if shutil.which('openssl') is None:
        pytest.skip('openssl is not installed: cannot make a test certificate')
    directory = tmp_path_factory.mktemp('tls')
    cert, key = directory / 'cert.pem', directory / 'key.pem'
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
                    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', str(key), '-out', str(cert)],
                   check=True, capture_output=True)
    server = StubServer()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    server.server.socket = context.wrap_socket(server.server.socket, server_side=True)
    server.add('GET', '/api/status/', Reply(200, {'tls': True}))
    server.start()
    yield 'https://127.0.0.1:%d' % server.server.server_address[1], str(cert)
    server.stop()


def test_tls_failure_is_clear(tls_server):
    url, _cert = tls_server
    error = failure(lambda: client(url).get('api/status/'))
    assert 'TLS verification of %s failed' % url in str(error)
    assert 'set ca_path' in str(error)


def test_tls_with_ca_path_or_without_verification(tls_server):
    url, cert = tls_server
    assert client(url, ca_path=cert).get('api/status/').data == {'tls': True}
    assert client(url, validate_certs=False).get('api/status/').data == {'tls': True}


def test_one_session_keeps_the_connection_alive(stub):
    stub.add('GET', '/api/x/', Reply(200, {}))
    api = client(stub.url)
    for _index in range(5):
        api.get('api/x/')
    assert len({seen.peer for seen in stub.calls('GET')}) == 1   # one TCP connection for all five
    api.close()


def test_a_tiny_token_does_not_garble_messages(stub):
    port = stub.server.server_address[1]
    stub.stop()
    with pytest.raises(HttpError, match='Cannot reach NetBox at'):
        HttpClient('http://127.0.0.1:%d' % port, 'x', product='NetBox', attempts=1).get('api/x/')
