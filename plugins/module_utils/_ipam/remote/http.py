# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""The one HTTP layer of the remote backends, on ``requests``.

One keep-alive ``Session`` per backend, with one retry policy: urllib3's ``Retry``
mounted on the session repeats a request that never reached the server (a refused
or reset connection before it was sent), whatever its method, and repeats the
requests that are safe to repeat (GET, HEAD, DELETE, and PATCH, whose bodies here
set absolute values) on a connection lost afterwards and on 429/502/503/504, with
jittered, bounded backoff.  A timeout is not waited through again.  A POST that may
have reached the server is never repeated here: its failure is raised with
``transient=True`` and the backend finds by name whether it landed, pausing with the
same backoff (``pause``) before it asks again.

Every failure is an ``HttpError`` (a ``BackendError``) whose message says what to fix
and never holds the token in any form (``redact.Redactor``).  An answer that is not
JSON, or a list that never ends, is an error that names the request and the status.
"""

from __future__ import annotations

import ipaddress
import random
import time
import warnings
from urllib.parse import urlsplit, urlunsplit

from ..core.errors import BackendError
from ..options import DEFAULT_TIMEOUT
from .redact import Redactor

try:
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.exceptions import ConnectTimeoutError, InsecureRequestWarning, InvalidHeader, NewConnectionError, ReadTimeoutError
    from urllib3.util.retry import Retry
except ImportError:  # the file backend works without it; remote backends say how to get it
    requests = None
    InsecureRequestWarning = None
    Retry = object

IDEMPOTENT_METHODS = frozenset(('GET', 'HEAD', 'DELETE', 'PATCH'))
RETRY_STATUSES = frozenset((429, 502, 503, 504))
MAX_MESSAGE = 600
PAGE_SIZE = 1000
#: A list endpoint is read at most this many pages, whatever its ``next`` links say.
MAX_PAGES = 1000


def backoff_seconds(retry, base, ceiling):
    """The pause before the ``retry``-th retry: growing, bounded, jittered (racing writers spread apart)."""
    return min(ceiling, base * 2 ** (retry - 1)) * random.uniform(0.5, 1.5)


class _Retry(Retry):
    """urllib3's retry rules (which errors, which methods, how many times, Retry-After) with our pauses and bounds."""

    BACKOFF_MAX = 4.0
    RETRY_AFTER_MAX = 8.0     # a server asking for more is down for longer than a task should wait

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        # A timeout is not waited through again: the user chose "timeout", and a server silent that long rarely
        # answers the next time.  Raised as urllib3 raises what it does not retry, so requests says "timeout".
        if isinstance(error, ReadTimeoutError):
            raise error.with_traceback(_stacktrace)
        if isinstance(error, ConnectTimeoutError) and not isinstance(error, NewConnectionError):
            return Retry.increment(self.new(total=0), method, url, response, error, _pool, _stacktrace)
        return super().increment(method, url, response, error, _pool, _stacktrace)

    def get_backoff_time(self):
        return backoff_seconds(len(self.history), self.backoff_factor, self.BACKOFF_MAX) if self.history else 0

    def get_retry_after(self, response):
        value = response.headers.get('Retry-After')
        try:
            seconds = None if value is None else self.parse_retry_after(value)
        except InvalidHeader:   # a malformed Retry-After is no reason to fail
            return None
        return None if seconds is None else min(seconds, self.RETRY_AFTER_MAX)


class HttpError(BackendError):
    """A request failed.

    ``status`` is the HTTP status (None when no answer came), ``data`` the parsed
    body, ``transient`` true when the same request may succeed later (no answer,
    timeout, 429, 502, 503, 504): for a POST that also means it may have landed.
    """

    def __init__(self, message, status=None, data=None, transient=False):
        super().__init__(message)
        self.status = status
        self.data = data
        self.transient = transient


class Response:
    """A 2xx answer: its status and JSON body, and how to say that it is not what the API returns."""

    __slots__ = ('status', 'data', 'what', '_client')

    def __init__(self, status, data, what, client):
        self.status = status
        self.data = data
        self.what = what
        self._client = client

    def invalid(self, reason):
        """The error for an answer of the wrong shape: names the request and the status."""
        return self._client.invalid(self.what, self.status, reason)


def server_message(data):
    """The server's own words from an error body (DRF: ``detail``, or ``{field: [messages]}``)."""
    if isinstance(data, dict):
        if 'detail' in data and len(data) == 1:
            return str(data['detail'])
        parts = []
        for key, value in data.items():
            text = server_message(value)
            parts.append(text if key in ('__all__', 'non_field_errors') else '%s: %s' % (key, text))
        return '; '.join(parts)
    if isinstance(data, list):
        return ' '.join(server_message(item) for item in data)
    return str(data)


def is_loopback(host):
    if host.lower() in ('localhost', 'localhost.localdomain'):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class HttpClient:
    """A session to one server: ``get``/``post``/``patch``/``delete`` paths below ``url``.

    ``token`` must already be normalised (``redact.normalized_token``).
    """

    def __init__(self, url, token, scheme='Token', validate_certs=True, ca_path=None, timeout=DEFAULT_TIMEOUT, product='the server',
                 attempts=4, backoff=0.5):
        if requests is None:
            raise BackendError('The %s backend needs the Python library "requests" on the controller: pip install requests'
                               % product)
        parts = urlsplit(str(url).strip())
        shown = _without_userinfo(parts)
        if parts.scheme not in ('http', 'https') or not parts.hostname:
            raise BackendError('Invalid url %r for %s: expected http(s)://host[:port][/path], for example https://netbox.example.com'
                               % (shown, product))
        if '@' in parts.netloc:
            # requests would send them as Basic auth instead of the token, and they would travel in every message.
            raise BackendError('The %s url holds a user name or password (%s with "user:password@" before the host): the '
                               'API token is the only credential; remove them from url' % (product, shown))
        self.product = product
        self.base = urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip('/'), '', ''))
        self.shown_base = shown
        self.timeout = timeout
        self.backoff = backoff
        self.warnings = []
        if parts.scheme == 'http' and not is_loopback(parts.hostname):
            self.warnings.append('The %s url %s uses plain http to a host that is not this machine: the API token crosses '
                                 'the network unencrypted. Use https.' % (product, self.shown_base))
        self._redactor = Redactor(str(token))
        retry = _Retry(total=attempts - 1, connect=attempts - 1, read=attempts - 1, status=attempts - 1, other=0,
                       redirect=False, allowed_methods=IDEMPOTENT_METHODS, status_forcelist=RETRY_STATUSES,
                       backoff_factor=backoff, raise_on_status=False, raise_on_redirect=False)
        self._session = requests.Session()
        for prefix in ('http://', 'https://'):
            self._session.mount(prefix, HTTPAdapter(max_retries=retry))
        self._session.headers.update({
            'Authorization': '%s %s' % (scheme, token),
            'Accept': 'application/json',
            'User-Agent': 'ipam.allocator',
        })
        # Given with each request: a session-wide "verify" loses to REQUESTS_CA_BUNDLE in the environment.
        self._verify = str(ca_path) if ca_path else bool(validate_certs)

    def close(self):
        self._session.close()

    def scrub(self, text):
        """``text`` without the token in any form."""
        return self._redactor.scrub(text)

    def pause(self, retry):
        """Wait before the backend asks again (a POST whose answer was lost, a lost race): the transport's backoff."""
        time.sleep(backoff_seconds(retry, self.backoff, _Retry.BACKOFF_MAX))

    # -- requests ----------------------------------------------------------------

    def get(self, path, params=None):
        return self.request('GET', path, params=params)

    def post(self, path, body):
        return self.request('POST', path, body=body)

    def patch(self, path, body):
        return self.request('PATCH', path, body=body)

    def delete(self, path):
        return self.request('DELETE', path)

    def paged(self, path, params=None, check=None):
        """Every result of a list endpoint, following ``next`` links; ``check(item)`` names what is wrong with one.

        Bounded: a page must say how many results there are (``count``), links must lead on, and no more than
        ``count`` results or ``MAX_PAGES`` pages are read, so a server whose ``next`` never ends cannot keep us.
        """
        params = dict(params or {})
        params.setdefault('limit', PAGE_SIZE)
        links, received = set(), 0
        for _page in range(MAX_PAGES):
            response = self.get(path, params)
            data = response.data
            if isinstance(data, list) and not links:     # endpoints that answer with a plain list (available-ips)
                items, count, link = data, len(data), None
            elif isinstance(data, dict) and isinstance(data.get('results'), list) and _is_count(data.get('count')):
                items, count, link = data['results'], data['count'], data.get('next')
            else:
                raise response.invalid('expected a page of results (a JSON object with "count" and a "results" list)')
            for item in items:
                reason = check(item) if check is not None else None
                if reason is not None:
                    raise response.invalid(reason)
            received += len(items)
            yield from items
            if not link:
                return
            path, params = self._next_url(link), None
            if received >= count or not items or path in links:
                raise response.invalid('its "next" link leads on after %d of the %d results it counts%s' % (
                    received, count, ' (to a page read before)' if path in links else ''))
            links.add(path)
        raise self.invalid('GET %s' % _shown_path(path, self.base), 200, 'more than %d pages of results' % MAX_PAGES)

    def request(self, method, path, params=None, body=None):
        url = path if path.startswith(('http://', 'https://')) else '%s/%s' % (self.base, path.lstrip('/'))
        what = '%s %s' % (method, _shown_path(url, self.base))
        answer = self._send(method, url, what, params, body)
        if isinstance(answer, HttpError):
            raise answer
        return self._answer(what, answer)

    def _send(self, method, url, what, params, body):
        """The ``requests`` response, or the HttpError for the caller to raise: raised outside the except block, it
        has nothing of the library's exception (which may quote the request and its header) chained to it."""
        try:
            with warnings.catch_warnings():
                if self._verify is False:   # the user chose it; urllib3 would say so on every request
                    warnings.simplefilter('ignore', InsecureRequestWarning)
                return self._session.request(method, url, params=params, json=body, timeout=self.timeout,
                                             verify=self._verify, allow_redirects=False)
        except requests.exceptions.SSLError as exc:
            return HttpError(self.scrub('TLS verification of %s failed (%s): set ca_path to the CA bundle of a private CA, '
                                        'or validate_certs: false for a test server' % (self.shown_base, _reason(exc))))
        except requests.exceptions.Timeout:
            return HttpError(self.scrub('%s at %s did not answer %s within %s s (timeout): raise the "timeout" option or '
                                        'check the server' % (self.product, self.shown_base, what, _seconds(self.timeout))),
                             transient=True)
        except (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            return HttpError(self.scrub('Cannot reach %s at %s (%s): check the url and that the server is up'
                                        % (self.product, self.shown_base, _reason(exc))), transient=True)
        except requests.exceptions.RequestException as exc:
            return HttpError(self.scrub('%s to %s failed: %s' % (what, self.product, _reason(exc))))

    def _answer(self, what, response):
        status = response.status_code
        body = _json(response)
        if 200 <= status < 300:
            if body is _NOT_JSON:
                raise self.invalid(what, status, 'not JSON (%s%s)' % (
                    response.headers.get('Content-Type') or 'no Content-Type', _opening(self.scrub(response.text))))
            return Response(status, body, what, self)
        data = response.text.strip() if body is _NOT_JSON else body
        # Scrubbed before it is cut short, so no part of a secret is left at the cut.
        detail = self.scrub(server_message(data) if data not in (None, '') else response.reason or '')[:MAX_MESSAGE]
        if status in RETRY_STATUSES:
            message = '%s at %s is busy or unavailable: %s answered %d %s' % (self.product, self.shown_base, what, status, detail)
            raise HttpError(self.scrub(message), status, data, transient=True)
        if 300 <= status < 400:
            message = ('%s at %s redirected %s to %s: set "url" to the address the server expects'
                       % (self.product, self.shown_base, what, response.headers.get('Location', '?')))
        elif status in (401, 403):
            message = ('%s at %s refused %s (%d %s): check the token (option "token", or the environment variables) '
                       'and that its user may do this' % (self.product, self.shown_base, what, status, detail))
        elif status == 404:
            message = '%s at %s has no %s (404 %s)' % (self.product, self.shown_base, what.split(' ', 1)[1], detail)
        elif status < 500:
            message = '%s at %s rejected %s (%d): %s' % (self.product, self.shown_base, what, status, detail)
        else:
            message = '%s at %s failed on %s with a server error (%d): %s' % (self.product, self.shown_base, what, status, detail)
        raise HttpError(self.scrub(message), status, data)

    def invalid(self, what, status, reason):
        """The error for an answer that is not what the API returns (a proxy's login page, a broken server)."""
        return HttpError(self.scrub('%s at %s answered %s with %s, which is not what its API returns: %s. Check that url '
                                    'is the address of the %s API itself (not a proxy or a login page)'
                                    % (self.product, self.shown_base, what, status, reason, self.product)), status)

    def _next_url(self, link):
        """Our scheme and host with the path and query of a ``next`` link (a proxy may make the server name itself otherwise)."""
        base, parts = urlsplit(self.base), urlsplit(str(link))
        return urlunsplit((base.scheme, base.netloc, parts.path, parts.query, ''))


_NOT_JSON = object()


def _json(response):
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return _NOT_JSON


def _is_count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _opening(text):
    text = ' '.join(text.split())
    return ', starting %r' % (text[:80] + ('...' if len(text) > 80 else '')) if text else ', empty'


def _reason(exc):
    """The innermost reason of a requests exception, without the URL noise."""
    reason = exc
    for _level in range(5):
        inner = reason.args[0] if reason.args and isinstance(reason.args[0], BaseException) else None
        inner = inner or getattr(reason, 'reason', None)
        if not isinstance(inner, BaseException):
            break
        reason = inner
    text = str(reason)
    if ': ' in text and text.startswith('<'):
        text = text.split(': ', 1)[1]
    return text or type(reason).__name__


def _seconds(value):
    return ('%g' % value) if isinstance(value, (int, float)) else str(value)


def _without_userinfo(parts):
    netloc = parts.netloc.rsplit('@', 1)[-1]
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip('/'), '', ''))


def _shown_path(url, base):
    parts = urlsplit(url)
    return parts.path[len(urlsplit(base).path):] if parts.path.startswith(urlsplit(base).path) else parts.path
