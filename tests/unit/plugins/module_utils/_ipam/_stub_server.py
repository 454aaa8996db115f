# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A scripted HTTP server on 127.0.0.1 for the error paths a real IPAM server cannot be made to show.

Each route (method, path regex, query subset) holds a list of replies; a request
takes the next one, and the last one repeats.  A reply can be delayed, can
reset the connection, and can run a callable first.  Every request is recorded.
"""

from __future__ import annotations

import json
import re
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Reply:
    """One answer: ``body`` is sent as JSON (a callable makes it from the request it answers), ``raw`` (bytes) as it
    is, with the Content-Type header given in ``headers``."""

    def __init__(self, status=200, body=None, headers=None, delay=0.0, reset=False, then=None, raw=None):
        self.status = status
        self.body = body
        self.raw = raw
        self.headers = headers or {}
        self.delay = delay
        self.reset = reset
        self.then = then


def page(*results):
    """A DRF list page."""
    return Reply(200, {'count': len(results), 'next': None, 'previous': None, 'results': list(results)})


class Seen:
    __slots__ = ('method', 'path', 'query', 'headers', 'body', 'peer')

    def __init__(self, method, path, query, headers, body, peer):
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.peer = peer

    def __repr__(self):
        return '%s %s %s' % (self.method, self.path, self.query)


class StubServer:
    def __init__(self, port=0):
        self.routes = []
        self.seen = []
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, *args):  # quiet
                pass

            def _serve(self):
                parts = urlsplit(self.path)
                query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
                length = int(self.headers.get('Content-Length') or 0)
                raw = self.rfile.read(length) if length else b''
                body = json.loads(raw) if raw else None
                seen = Seen(self.command, parts.path, query, dict(self.headers), body, self.client_address)
                reply = stub.answer(seen)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.then is not None:
                    reply.then()
                if reply.reset:
                    # RST instead of FIN: the client sees "connection reset by peer".
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
                    self.close_connection = True
                    self.connection.close()
                    return
                body = reply.body(seen) if callable(reply.body) else reply.body
                data = reply.raw if reply.raw is not None else b'' if body is None else json.dumps(body).encode()
                try:
                    self.send_response(reply.status)
                    for key, value in reply.headers.items():
                        self.send_header(key, value)
                    if data and reply.raw is None:
                        self.send_header('Content-Type', 'application/json')
                    self.send_header('Content-Length', str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up (timeout)
                    self.close_connection = True

            do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _serve

        self.server = ThreadingHTTPServer(('127.0.0.1', port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True)

    @property
    def url(self):
        return 'http://127.0.0.1:%d' % self.server.server_address[1]

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def add(self, method, path, *replies, query=None):
        """Answer ``method path`` (regex, full match) whose query contains ``query`` with ``replies`` in turn."""
        self.routes.insert(0, (method, re.compile(path), query or {}, list(replies)))

    def answer(self, seen):
        with self._lock:
            self.seen.append(seen)
            for method, path, query, replies in self.routes:
                if method == seen.method and path.fullmatch(seen.path) and all(
                        seen.query.get(key) == str(value) for key, value in query.items()):
                    return replies.pop(0) if len(replies) > 1 else replies[0]
        return Reply(599, {'detail': 'the stub has no route for %s %s %s' % (seen.method, seen.path, seen.query)})

    def calls(self, method=None, path=None):
        return [seen for seen in self.seen if (method is None or seen.method == method)
                and (path is None or re.fullmatch(path, seen.path))]
