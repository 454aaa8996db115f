# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""The one HTTP layer of the remote backends, on ``requests``.

One keep-alive ``Session`` per backend.  Requests that are safe to repeat
(GET, DELETE, and PATCH, which sets absolute values) are retried on connection
errors and on 429/502/503/504 with jittered, bounded backoff.  A POST is never
repeated here: its failure is raised with ``transient=True`` and the backend
first checks by name whether it landed.  Every failure is an ``HttpError``
(a ``BackendError``) whose message says what to fix and never contains the token.
"""

from __future__ import annotations

import ipaddress
import random
import time
import warnings
from urllib.parse import urlsplit, urlunsplit

from .errors import BackendError

try:
    import requests
    from urllib3.exceptions import InsecureRequestWarning
except ImportError:  # the file backend works without it; remote backends say how to get it
    requests = None
    InsecureRequestWarning = None

IDEMPOTENT_METHODS = frozenset(('GET', 'HEAD', 'DELETE', 'PATCH'))
RETRY_STATUSES = frozenset((429, 502, 503, 504))
MAX_MESSAGE = 600


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
    __slots__ = ('status', 'data')

    def __init__(self, status, data):
        self.status = status
        self.data = data


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
    """A session to one server: ``get``/``post``/``patch``/``delete`` paths below ``url``."""

    def __init__(self, url, token, scheme='Token', validate_certs=True, ca_path=None, timeout=30, product='the server',
                 attempts=4, backoff=0.5, max_backoff=4.0):
        if requests is None:
            raise BackendError('The %s backend needs the Python library "requests" on the controller: pip install requests'
                               % product)
        parts = urlsplit(str(url).strip())
        if parts.scheme not in ('http', 'https') or not parts.hostname:
            raise BackendError('Invalid url %r for %s: expected http(s)://host[:port][/path], for example https://netbox.example.com'
                               % (_without_userinfo(parts), product))
        self.product = product
        self.base = urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip('/'), '', ''))
        self.shown_base = _without_userinfo(parts)
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.warnings = []
        if parts.scheme == 'http' and not is_loopback(parts.hostname):
            self.warnings.append('The %s url %s uses plain http to a host that is not this machine: the API token crosses '
                                 'the network unencrypted. Use https.' % (product, self.shown_base))
        self._token = str(token)
        self._session = requests.Session()
        self._session.headers.update({
            'Authorization': '%s %s' % (scheme, self._token),
            'Accept': 'application/json',
            'User-Agent': 'ipam.allocator',
        })
        # Given with each request: a session-wide "verify" loses to REQUESTS_CA_BUNDLE in the environment.
        self._verify = str(ca_path) if ca_path else bool(validate_certs)

    def close(self):
        self._session.close()

    # -- requests ----------------------------------------------------------------

    def get(self, path, params=None):
        return self.request('GET', path, params=params)

    def post(self, path, body):
        return self.request('POST', path, body=body)

    def patch(self, path, body):
        return self.request('PATCH', path, body=body)

    def delete(self, path):
        return self.request('DELETE', path)

    def paged(self, path, params=None):
        """Every result of a list endpoint, following ``next`` links."""
        params = dict(params or {})
        params.setdefault('limit', 1000)
        while path:
            data = self.get(path, params).data
            if isinstance(data, list):
                yield from data
                return
            yield from data.get('results') or []
            path, params = self._next_url(data.get('next')), None

    def request(self, method, path, params=None, body=None):
        url = path if path.startswith(('http://', 'https://')) else '%s/%s' % (self.base, path.lstrip('/'))
        what = '%s %s' % (method, _shown_path(url, self.base))
        for attempt in range(1, self.attempts + 1):
            outcome, again, retry_after = self._send(method, url, what, params, body)
            if isinstance(outcome, Response):
                return outcome
            if not (again and method in IDEMPOTENT_METHODS) or attempt == self.attempts:
                raise outcome
            time.sleep(self._delay(attempt, retry_after))
        raise AssertionError('unreachable')

    def _send(self, method, url, what, params, body):
        """``(Response, False, None)`` or ``(HttpError, may_retry, retry_after)``; only ``requests`` exceptions are caught."""
        try:
            with warnings.catch_warnings():
                if self._verify is False:   # the user chose it; urllib3 would say so on every request
                    warnings.simplefilter('ignore', InsecureRequestWarning)
                response = self._session.request(method, url, params=params, json=body, timeout=self.timeout,
                                                 verify=self._verify, allow_redirects=False)
        except requests.exceptions.SSLError as exc:
            raise HttpError(self._scrub('TLS verification of %s failed (%s): set ca_path to the CA bundle of a private CA, '
                                        'or validate_certs: false for a test server' % (self.shown_base, _reason(exc)))) from None
        except requests.exceptions.Timeout:
            # Not repeated: another wait of "timeout" seconds rarely helps, and the user chose that bound.
            return HttpError(self._scrub('%s at %s did not answer %s within %s s (timeout): raise the "timeout" option '
                                         'or check the server' % (self.product, self.shown_base, what, _seconds(self.timeout))),
                             transient=True), False, None
        except (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            return HttpError(self._scrub('Cannot reach %s at %s (%s): check the url and that the server is up'
                                         % (self.product, self.shown_base, _reason(exc))), transient=True), True, None
        except requests.exceptions.RequestException as exc:
            raise HttpError(self._scrub('%s to %s failed: %s' % (what, self.product, _reason(exc)))) from None
        return self._answer(what, response)

    def _answer(self, what, response):
        status = response.status_code
        data = _json(response)
        if 200 <= status < 300:
            return Response(status, data), False, None
        detail = server_message(data) if data not in (None, '') else response.reason or ''
        detail = detail[:MAX_MESSAGE]
        if status in RETRY_STATUSES:
            message = '%s at %s is busy or unavailable: %s answered %d %s' % (self.product, self.shown_base, what, status, detail)
            return HttpError(self._scrub(message), status, data, transient=True), True, _retry_after(response)
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
        return HttpError(self._scrub(message), status, data), False, None

    def _delay(self, attempt, retry_after=None):
        if retry_after is not None:
            return min(retry_after, 2 * self.max_backoff)
        return min(self.max_backoff, self.backoff * 2 ** (attempt - 1)) * random.uniform(0.5, 1.5)

    def _next_url(self, link):
        """Our scheme and host with the path and query of a ``next`` link (a proxy may make the server name itself otherwise)."""
        if not link:
            return None
        base, parts = urlsplit(self.base), urlsplit(link)
        return urlunsplit((base.scheme, base.netloc, parts.path, parts.query, ''))

    def _scrub(self, text):
        # A few characters are no secret, and blanking them would garble the message (a token "x" in "NetBox").
        return text.replace(self._token, '********') if len(self._token) >= 8 else text


def _json(response):
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text.strip()


def _retry_after(response):
    try:
        return max(0.0, float(response.headers.get('Retry-After')))
    except (TypeError, ValueError):
        return None


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
