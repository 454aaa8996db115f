# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The token appears nowhere: every module, lookup and the inventory plugin at -vvvv, with --diff, for real and in
check mode, on NetBox, Nautobot and a hostile stub server that quotes the token back in every answer.

Two tokens that used to leak: one that ends in a newline (what a ``token: !vault |`` block gives; requests refused
the header and quoted it whole) and one of 6 characters (too short to be scrubbed).  The test looks for the token in
stdout, stderr, the task results, the log file, the fact cache and every other file the run wrote.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from ansible_collections.ipam.allocator.tests.unit.plugins.module_utils._ipam._stub_server import Reply, StubServer

HERE = Path(__file__).resolve().parent
SHORT_TOKEN = 'Qx7Kzp'
STUB_TOKEN = 'nbt_stubKey0.StubSecretValue0123456789'


def hostile(seen):
    """A 403 that quotes the token as the server got it, and again escaped, as a careless server or proxy would."""
    token = seen.headers.get('Authorization', '').split(' ', 1)[-1]
    return {'detail': 'Invalid token %s (header %r, json %s)' % (token, seen.headers.get('Authorization'), json.dumps(token))}


@pytest.fixture
def stub():
    server = StubServer().start()
    for method in ('GET', 'POST', 'PATCH', 'DELETE'):
        server.add(method, '.*', Reply(403, hostile))
    yield server
    server.stop()


def target_options(target, servers, stub):
    """``(backend, url, the server's own token)`` of ``target``."""
    if target == 'stub':
        return 'netbox', stub.url, STUB_TOKEN
    found = servers[target]
    if found.reason is not None:
        pytest.skip('%s test server unavailable: %s' % (found.product, found.reason))
    return found.name, found.url, found.token


def secret_parts(token):
    """What must not be shown: the token, and the secret half of a NetBox v2 token."""
    token = token.strip()
    return {token} | ({token.split('.', 1)[1]} if token.startswith('nbt_') and '.' in token else set())


def written_text(directory):
    for path in sorted(directory.rglob('*')):
        if path.is_file():
            yield path, path.read_bytes().decode('utf-8', 'replace')


@pytest.mark.parametrize('kind', ['newline', 'short'])
@pytest.mark.parametrize('target', ['netbox', 'nautobot', 'stub'])
def test_the_token_is_nowhere(target, kind, servers, stub, tmp_path, control, playbook_env):
    backend, url, own_token = target_options(target, servers, stub)
    if target != 'stub':
        control('reset-data', target)
    token = own_token + '\n' if kind == 'newline' else SHORT_TOKEN
    secret, output = tmp_path / 'secret', tmp_path / 'out'
    secret.mkdir()
    output.mkdir()
    # A YAML block scalar keeps the newline at its end, as a "token: !vault |" block does.
    (secret / 'backend.yml').write_text('ipam_backend:\n  backend: %s\n  url: %s\n  timeout: 60\n  token: |\n    %s\n'
                                        % (backend, url, token.rstrip('\n')) if kind == 'newline' else
                                        'ipam_backend:\n  backend: %s\n  url: %s\n  timeout: 60\n  token: %s\n'
                                        % (backend, url, token))
    env = dict(playbook_env, ANSIBLE_LOG_PATH=str(output / 'ansible.log'), ANSIBLE_CACHE_PLUGIN='jsonfile',
               ANSIBLE_CACHE_PLUGIN_CONNECTION=str(output / 'facts'), ANSIBLE_LOCAL_TEMP=str(output / 'tmp'),
               ANSIBLE_RETRY_FILES_ENABLED='1', ANSIBLE_RETRY_FILES_SAVE_PATH=str(output / 'retry'))
    play = subprocess.run(['ansible-playbook', '-vvvv', '--diff', '-i', 'localhost,', '-c', 'local',
                           '-e', 'ansible_python_interpreter=%s' % playbook_env['IPAM_TEST_PYTHON'],
                           '-e', '@%s' % (secret / 'backend.yml'), '-e', 'output_dir=%s' % output,
                           str(HERE / 'secrets' / 'every_plugin.yml')],
                          capture_output=True, text=True, timeout=1200, check=False, env=env)
    (output / 'source.ipam.yml').write_text('plugin: ipam.allocator.allocations\nbackend: %s\nurl: %s\n' % (backend, url))
    listed = subprocess.run(['ansible-inventory', '-vvvv', '-i', str(output / 'source.ipam.yml'), '--list'],
                            capture_output=True, text=True, timeout=600, check=False,
                            env=dict(env, IPAM_ALLOCATOR_TOKEN=token, ANSIBLE_INVENTORY_ENABLED='ipam.allocator.allocations'))
    places = [('stdout', play.stdout), ('stderr', play.stderr), ('inventory stdout', listed.stdout),
              ('inventory stderr', listed.stderr)] + list(written_text(output))
    for part in secret_parts(token):
        leaks = [str(place) for place, text in places if part in text]
        assert leaks == [], 'the token is shown in %s' % ', '.join(leaks)
    # Not vacuous: the run went through every task, and the log, the results and the fact cache were written.
    assert play.returncode == 0, play.stdout[-3000:] + play.stderr[-3000:]
    assert {'ansible.log', 'results.json'} <= {path.name for path in output.iterdir()} and (output / 'facts').is_dir()
    results = json.loads((output / 'results.json').read_text())
    assert len(results) == 14
    by_name = results[1]
    if target != 'stub' and kind == 'newline':      # the token works once stripped: the tasks did their work
        assert not by_name.get('failed') and by_name['address'].startswith('10.77.0.'), by_name
    else:
        assert by_name['failed'] and 'check the token' in by_name['msg'], by_name
