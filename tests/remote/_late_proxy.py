# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""An HTTP proxy on 127.0.0.1 in front of a real test server that makes one POST land late, on purpose.

The first POST whose path matches is held back: the client times out and goes on as
if the answer were lost, and the server makes the object only when the proxy lets
the POST through.  ``when`` says when that is:

- ``'before-confirm'``: as soon as the client's next matching POST has been answered,
  and before that answer reaches the client, so the client's check by name that
  follows finds both objects;
- ``'on-release'``: when the test calls ``release()``, after the task has finished.

Every other request passes straight through.
"""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

HOP_HEADERS = frozenset(('host', 'connection', 'keep-alive', 'content-length', 'transfer-encoding', 'accept-encoding'))


class LateProxy:
    def __init__(self, target, path, when):
        self.target = target.rstrip('/')
        self.path = re.compile(path)
        self.when = when
        self.late_answer = None         # (status, JSON) of the held POST, once the server answered it
        self.landed = threading.Event()
        self._released = threading.Event()
        self._lock = threading.Lock()
        self._matching = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, *args):  # quiet
                pass

            def _serve(self):
                length = int(self.headers.get('Content-Length') or 0)
                body = self.rfile.read(length) if length else None
                headers = {key: value for key, value in self.headers.items() if key.lower() not in HOP_HEADERS}
                number = proxy.count(self.command, self.path)
                if number == 1:
                    # Held: the client gives up waiting; what the server answers later goes nowhere.
                    proxy._released.wait(timeout=60)
                    answer = proxy.forward(self.command, self.path, headers, body)
                    proxy.late_answer = (answer.status_code, answer.json())
                    proxy.landed.set()
                    self.close_connection = True
                    return
                answer = proxy.forward(self.command, self.path, headers, body)
                if number == 2 and proxy.when == 'before-confirm':
                    proxy._released.set()
                    proxy.landed.wait(timeout=60)
                data = answer.content
                try:
                    self.send_response(answer.status_code)
                    if answer.headers.get('Content-Type'):
                        self.send_header('Content-Type', answer.headers['Content-Type'])
                    self.send_header('Content-Length', str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    self.close_connection = True

            do_GET = do_POST = do_PATCH = do_DELETE = _serve

        self.server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True)

    @property
    def url(self):
        return 'http://127.0.0.1:%d' % self.server.server_address[1]

    def count(self, method, path):
        """How many matching POSTs came so far, this one included (0 for any other request)."""
        if method != 'POST' or not self.path.search(path.split('?', 1)[0]):
            return 0
        with self._lock:
            self._matching += 1
            return self._matching

    def forward(self, method, path, headers, body):
        return requests.request(method, self.target + path, headers=headers, data=body, timeout=60, allow_redirects=False)

    def release(self):
        self._released.set()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self._released.set()
        self.server.shutdown()
        self.server.server_close()
        return False
