# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Real NetBox and Nautobot servers for the remote backend tests.

The session fixture uses servers that already answer; otherwise it runs
``tests/servers/servers.sh setup all`` and ``start all`` and stops them at the end
(only what it started).  A server that cannot be set up or started on this machine
makes its tests skip with the reason, shown in pytest's summary (``-rs``).
Each test module starts from the post-setup data (``servers.sh reset-data``).
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVERS_SH = ROOT / 'tests' / 'servers' / 'servers.sh'
VENV_BIN = ROOT / '.venv' / 'bin'
SERVER_NAMES = ('netbox', 'nautobot')
PRODUCTS = {'netbox': 'NetBox', 'nautobot': 'Nautobot'}

# The collection is imported as ansible_collections.ipam.allocator (as tests/unit/conftest.py does).
if not str(ROOT).endswith(os.path.join('ansible_collections', 'ipam', 'allocator')):
    COLLECTIONS = ROOT / 'build' / 'collections'
    _LINK = COLLECTIONS / 'ansible_collections' / 'ipam' / 'allocator'
    if not _LINK.is_symlink():
        _LINK.parent.mkdir(parents=True, exist_ok=True)
        try:
            _LINK.symlink_to(ROOT)
        except FileExistsError:
            pass
else:
    COLLECTIONS = ROOT.parents[2]
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))

import requests  # noqa: E402  (after the path set-up, like every import of the collection)


def pytest_collection_modifyitems(config, items):  # pylint: disable=unused-argument
    """Every test here needs real servers: mark it slow (``make test-fast`` leaves it out)."""
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.slow)


def servers_sh(*args, check=True, timeout=1200):
    command = ['bash', str(SERVERS_SH)] + list(args)
    if args[:1] == ('setup',):
        # `make test` starts the slow first-time setup in the background under this lock; wait for it.
        lock = ROOT / 'build' / 'servers-setup.lock'
        lock.parent.mkdir(parents=True, exist_ok=True)
        command = ['flock', '--close', str(lock)] + command
    return subprocess.run(command, capture_output=True, text=True, check=check, timeout=timeout)


class Server:
    """One test server: its connection options, or why it is unavailable."""

    def __init__(self, name, url=None, token=None, reason=None):
        self.name = name
        self.product = PRODUCTS[name]
        self.url = url
        self.token = token
        self.reason = reason

    @property
    def options(self):
        return {'backend': self.name, 'url': self.url, 'token': self.token}

    def answers(self):
        if self.reason is not None:
            return False
        try:
            return Api(self).get('api/status/').status_code == 200
        except requests.RequestException:
            return False


def read_env():
    """``{name: Server}`` from ``servers.sh env``: exported variables, or the "unavailable" comment."""
    output = servers_sh('env').stdout
    values = dict(re.findall(r'^export (IPAM_TEST_\w+)=(.*)$', output, re.M))
    reasons = {product.lower(): reason for product, reason in re.findall(r'^# (\w+) unavailable: (.*)$', output, re.M)}
    found = {}
    for name in SERVER_NAMES:
        prefix = 'IPAM_TEST_%s_' % name.upper()
        if prefix + 'URL' in values:
            found[name] = Server(name, values[prefix + 'URL'], values[prefix + 'TOKEN'])
        else:
            found[name] = Server(name, reason=reasons.get(name, 'servers.sh env does not list it'))
    return found, values


@pytest.fixture(scope='session')
def servers():
    """Every test server, started if needed; stopped at the end if this session started it."""
    found, values = read_env()
    started = []
    if not all(server.answers() for server in found.values() if server.reason is None):
        setup = servers_sh('setup', 'all', check=False)
        found, values = read_env()
        if setup.returncode != 0:
            for server in found.values():
                server.reason = server.reason or 'servers.sh setup failed: %s' % (setup.stderr.strip().splitlines() or ['?'])[-1]
        waiting = [server for server in found.values() if server.reason is None and not server.answers()]
        if waiting:
            start = servers_sh('start', 'all', check=False)
            for server in waiting:
                if server.answers():
                    started.append(server.name)
                else:
                    server.reason = 'servers.sh start did not bring it up: %s' % (
                        (start.stderr.strip().splitlines() or ['?'])[-1])
    os.environ.update(values)
    yield found
    for name in started:
        servers_sh('stop', name, check=False)


@pytest.fixture(scope='module', autouse=True)
def fresh_data(servers):
    """Every module starts from the post-setup data: no prefix, IP address, tag or custom field made by a test."""
    if any(server.reason is None for server in servers.values()):
        servers_sh('reset-data', 'all')


@pytest.fixture(scope='session')
def collections_path():
    """The directory to give ANSIBLE_COLLECTIONS_PATH: it holds ansible_collections/ipam/allocator."""
    return str(COLLECTIONS)


@pytest.fixture(scope='module')
def playbook_env(collections_path):
    """The environment of a real ansible-playbook run from the project's venv against this checkout."""
    if not (VENV_BIN / 'ansible-playbook').exists():
        pytest.skip('no ansible-playbook in %s: run "make venv"' % VENV_BIN)
    return dict(os.environ, PATH='%s%s%s' % (VENV_BIN, os.pathsep, os.environ.get('PATH', '')),
                ANSIBLE_COLLECTIONS_PATH=collections_path, IPAM_TEST_PYTHON=str(VENV_BIN / 'python'),
                ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0')


@pytest.fixture
def control():
    """``control('stop', 'netbox')``: run servers.sh."""
    return servers_sh


@pytest.fixture(params=SERVER_NAMES)
def server(request, servers):
    found = servers[request.param]
    if found.reason is not None:
        pytest.skip('%s test server unavailable: %s' % (found.product, found.reason))
    return found


@pytest.fixture
def backend(server):
    from ansible_collections.ipam.allocator.plugins.module_utils._ipam.registry import load_backend
    with load_backend(server.options) as opened:
        yield opened


_NETS = itertools.count(1)


@pytest.fixture
def cidr():
    """A /24 no other test in this session uses."""
    number = next(_NETS)
    return '10.%d.%d.0/24' % (100 + number // 250, number % 250)


class Api:
    """Plain API calls for what a test sets up behind the backend's back (foreign objects, custom fields, VRFs)."""

    def __init__(self, server):
        self.server = server
        scheme = 'Bearer' if server.token.startswith('nbt_') else 'Token'
        self.session = requests.Session()
        self.session.headers.update({'Authorization': '%s %s' % (scheme, server.token), 'Accept': 'application/json'})

    def _url(self, path):
        return '%s/%s' % (self.server.url, path.lstrip('/'))

    def get(self, path, **params):
        return self.session.get(self._url(path), params=params, timeout=30)

    def list(self, path, **params):
        answer = self.get(path, limit=1000, **params)
        answer.raise_for_status()
        return answer.json()['results']

    def post(self, path, body):
        answer = self.session.post(self._url(path), json=body, timeout=30)
        assert answer.status_code in (200, 201), answer.text
        return answer.json()

    def delete(self, path):
        return self.session.delete(self._url(path), timeout=30)

    @property
    def nautobot(self):
        return self.server.name == 'nautobot'

    def make_ip(self, address, description='', namespace='Global'):
        """An IP address made by someone else: no ipam-allocator tag."""
        body = {'address': address, 'description': description}
        if self.nautobot:
            body.update(status={'name': 'Active'}, namespace={'name': namespace})
        return self.post('api/ipam/ip-addresses/', body)

    def ips_in(self, cidr, **params):
        key = 'prefix' if self.nautobot else 'parent'
        return self.list('api/ipam/ip-addresses/', **{key: cidr}, **params)


@pytest.fixture
def api(server):
    return Api(server)
