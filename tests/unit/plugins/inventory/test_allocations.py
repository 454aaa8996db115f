# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The inventory plugin ipam.allocator.allocations, against real file stores.

Every case builds its store with the real file backend in ``tmp_path`` and
reads it through Ansible's own machinery: the plugin loader, the DataLoader,
the InventoryManager and a Templar.  Nothing of our backend is mocked.
"""

from __future__ import annotations

import os
import sys

import pytest

from ansible.errors import AnsibleError, AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader

from ansible_collections.ipam.allocator.plugins.module_utils._ipam.registry import load_backend
from ansible_collections.ipam.allocator.plugins.module_utils._ipam.filestore.backend_file import FileBackend

COLLECTION_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
FORMATS = ('yml', 'json', 'sqlite')


def _collection_tree():
    """The directory that holds ansible_collections/ipam/allocator for this checkout."""
    if COLLECTION_ROOT.endswith(os.path.join('ansible_collections', 'ipam', 'allocator')):
        return os.path.dirname(os.path.dirname(os.path.dirname(COLLECTION_ROOT)))
    return os.path.join(COLLECTION_ROOT, 'build', 'collections')


@pytest.fixture(scope='module')
def inventory_loader():
    """Ansible's plugin loader, able to find ``ipam.allocator.allocations`` of this checkout.

    Under ansible-test the collection finder is already installed.  Under plain
    pytest, tests/unit/conftest.py puts the collection on sys.path, so the test
    modules imported ``ansible_collections.ipam.allocator`` as plain packages
    before the finder existed.  Those packages then (1) lack the collection's
    meta/runtime.yml, which the finder reads on import, and (2) may be namespace
    packages spanning other copies of the collection found on sys.path (for
    example one installed into the venv by ``make demo``), which the finder
    refuses.  Pin them to this checkout and give them the metadata, keeping every
    module already imported (so exception classes stay the same objects).
    """
    from ansible import constants as C
    from ansible.plugins.loader import init_plugin_loader, inventory_loader as loader
    from ansible.utils.collection_loader import AnsibleCollectionConfig

    tree = _collection_tree()
    if AnsibleCollectionConfig.collection_finder is None:
        # Before the finder exists (reading a namespace path afterwards would consult it).
        ours = os.path.join(tree, 'ansible_collections')
        for name, module in sorted(sys.modules.items()):
            if name != 'ansible_collections' and not name.startswith('ansible_collections.ipam'):
                continue
            path = getattr(module, '__path__', None)
            if path is not None and getattr(module, '__file__', None) is None:   # a plain namespace package
                entries = list(path)
                local = [entry for entry in entries if entry == ours or os.path.abspath(entry).startswith(ours + os.sep)]
                if local and local != entries:
                    module.__path__ = local
        C.COLLECTIONS_SCAN_SYS_PATH = False   # never a copy of the collection on sys.path
        init_plugin_loader([tree])
    package = sys.modules.get('ansible_collections.ipam.allocator')
    if package is not None and getattr(package, '_collection_meta', None) is None:
        from ansible.utils.collection_loader._collection_finder import _meta_yml_to_dict

        with open(os.path.join(COLLECTION_ROOT, 'meta', 'runtime.yml'), 'rb') as handle:
            package._collection_meta = _meta_yml_to_dict(handle.read(), ('ipam.allocator', 'meta/runtime.yml'))
    plugin = loader.get('ipam.allocator.allocations')
    assert plugin is not None
    assert os.path.realpath(sys.modules[type(plugin).__module__].__file__) == os.path.realpath(
        os.path.join(COLLECTION_ROOT, 'plugins', 'inventory', 'allocations.py'))
    return loader


@pytest.fixture(params=FORMATS)
def store(request, tmp_path):
    """A store of each format with two hosts in two pools, built with the real backend."""
    path = str(tmp_path / ('store.' + request.param))
    with load_backend({'store': path}) as backend:
        backend.ensure_pool({'name': 'lab', 'cidr': '10.0.0.0/24', 'gateway': '10.0.0.1'})
        backend.ensure_pool({'name': 'lab-6.v2', 'cidr': '2001:db8::/64'})
        backend.allocate('lab', 'web01/eth1', dns_name='web01.example.com')   # 10.0.0.2
        backend.allocate('lab', 'db01/eth0', description='{{ 7 * 6 }}')        # 10.0.0.3
        backend.allocate('lab', 'web01', address='10.0.0.9')
        backend.allocate('lab-6.v2', 'web01/eth0')                              # 2001:db8::1
    return path


def write_source(tmp_path, text, name='test.ipam.yml'):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def source_for(tmp_path, store, extra=''):
    return write_source(tmp_path, 'plugin: ipam.allocator.allocations\nstore: %s\n%s' % (store, extra))


def parse(inventory_loader, source):
    """Run the plugin itself on ``source``: errors surface as they are raised."""
    plugin = inventory_loader.get('ipam.allocator.allocations')
    inventory = InventoryData()
    plugin.parse(inventory, DataLoader(), source, cache=False)
    return inventory


def manager(inventory_loader, source):
    """The InventoryManager on ``source``, as ansible-playbook builds it."""
    return InventoryManager(loader=DataLoader(), sources=[source])


def group_hosts(inventory, group):
    return sorted(host.name for host in inventory.groups[group].get_hosts())


# -- verify_file -----------------------------------------------------------------------

@pytest.mark.parametrize('name, accepted', [
    ('lab.ipam.yml', True),
    ('lab.ipam.yaml', True),
    ('ipam.yml', True),
    ('lab.yml', False),
    ('lab.ipam.json', False),
    ('lab.ipam.yml.bak', False),
])
def test_verify_file_accepts_only_ipam_sources(inventory_loader, tmp_path, name, accepted):
    path = write_source(tmp_path, 'plugin: ipam.allocator.allocations\n', name)
    assert inventory_loader.get('ipam.allocator.allocations').verify_file(path) is accepted


def test_verify_file_refuses_a_missing_source(inventory_loader, tmp_path):
    assert not inventory_loader.get('ipam.allocator.allocations').verify_file(str(tmp_path / 'missing.ipam.yml'))


# -- hosts, groups, variables ----------------------------------------------------------

def test_hosts_groups_and_variables(inventory_loader, tmp_path, store):
    inventory = manager(inventory_loader, source_for(tmp_path, store))
    assert sorted(inventory.hosts) == ['db01', 'web01']
    assert group_hosts(inventory, 'ipam_lab') == ['db01', 'web01']
    # Every non-word character of the pool name becomes "_".
    assert group_hosts(inventory, 'ipam_lab_6_v2') == ['web01']

    web01 = inventory.get_host('web01').get_vars()
    # "web01" sorts before "web01/eth0" and "web01/eth1": its address is ansible_host.
    assert web01['ansible_host'] == '10.0.0.9'
    assert [(view['pool'], view['name'], view['address']) for view in web01['ipam_allocations']] == [
        ('lab', 'web01', '10.0.0.9'),
        ('lab-6.v2', 'web01/eth0', '2001:db8::1'),
        ('lab', 'web01/eth1', '10.0.0.2'),
    ]
    assert web01['ipam_allocations'][2] == {
        'pool': 'lab', 'name': 'web01/eth1', 'address': '10.0.0.2', 'cidr': '10.0.0.2/24', 'prefix_length': 24,
        'gateway': '10.0.0.1', 'description': None, 'dns_name': 'web01.example.com',
    }
    assert web01['ipam_allocations'][1]['cidr'] == '2001:db8::1/64'
    assert inventory.get_host('db01').get_vars()['ansible_host'] == '10.0.0.3'


def test_ansible_host_is_the_first_allocation_in_name_order(inventory_loader, tmp_path):
    path = str(tmp_path / 'store.yml')
    with load_backend({'store': path}) as backend:
        backend.ensure_pool({'name': 'b', 'cidr': '10.0.1.0/24'})
        backend.ensure_pool({'name': 'a', 'cidr': '10.0.2.0/24'})
        backend.allocate('b', 'app/eth1')
        backend.allocate('b', 'app/eth0')       # lowest name: ansible_host, whatever its pool or address
        backend.allocate('a', 'app/eth0')       # same name, pool "a" sorts first
        backend.allocate('b', 'app/eth0.100')
    host = manager(inventory_loader, source_for(tmp_path, path)).get_host('app').get_vars()
    assert host['ansible_host'] == '10.0.2.1'
    assert [(view['name'], view['pool']) for view in host['ipam_allocations']] == [
        ('app/eth0', 'a'), ('app/eth0', 'b'), ('app/eth0.100', 'b'), ('app/eth1', 'b')]


def test_an_empty_store_is_an_empty_inventory(inventory_loader, tmp_path):
    path = str(tmp_path / 'store.yml')
    with load_backend({'store': path}) as backend:
        backend.ensure_pool({'name': 'lab', 'cidr': '10.0.0.0/24'})
    inventory = parse(inventory_loader, source_for(tmp_path, path))
    assert not inventory.hosts
    assert 'ipam_lab' not in inventory.groups


def test_names_without_a_host_part_are_skipped_with_a_warning(inventory_loader, tmp_path, monkeypatch):
    path = str(tmp_path / 'store.yml')
    with load_backend({'store': path}) as backend:
        backend.ensure_pool({'name': 'lab', 'cidr': '10.0.0.0/24'})
        backend.allocate('lab', '/eth0')
        backend.allocate('lab', 'ok/eth0')
    warnings = []
    plugin = inventory_loader.get('ipam.allocator.allocations')
    monkeypatch.setattr(plugin.display, 'warning', lambda message, *args, **kwargs: warnings.append(message))
    inventory = InventoryData()
    plugin.parse(inventory, DataLoader(), source_for(tmp_path, path), cache=False)
    assert sorted(inventory.hosts) == ['ok']
    assert any("'/eth0'" in message and 'no host part' in message for message in warnings)


def test_pools_filter(inventory_loader, tmp_path, store, monkeypatch):
    warnings = []
    plugin = inventory_loader.get('ipam.allocator.allocations')
    monkeypatch.setattr(plugin.display, 'warning', lambda message, *args, **kwargs: warnings.append(message))
    inventory = InventoryData()
    plugin.parse(inventory, DataLoader(), source_for(tmp_path, store, 'pools: [lab-6.v2, typo]\n'), cache=False)
    assert sorted(inventory.hosts) == ['web01']
    assert 'ipam_lab' not in inventory.groups
    host = inventory.get_host('web01').get_vars()
    # Only the filtered pool's records, so ansible_host comes from them too.
    assert host['ansible_host'] == '2001:db8::1'
    assert [view['pool'] for view in host['ipam_allocations']] == ['lab-6.v2']
    assert any("'typo'" in message for message in warnings)


def test_store_from_the_environment(inventory_loader, tmp_path, store, monkeypatch):
    monkeypatch.setenv('IPAM_ALLOCATOR_STORE', store)
    source = write_source(tmp_path, 'plugin: ipam.allocator.allocations\n')
    assert sorted(parse(inventory_loader, source).hosts) == ['db01', 'web01']


# -- store strings are data, never templates -------------------------------------------

def test_strings_from_the_store_are_never_templated(inventory_loader, tmp_path, store):
    from ansible.template import Templar

    inventory = manager(inventory_loader, source_for(tmp_path, store))
    hostvars = inventory.get_host('db01').get_vars()
    description = hostvars['ipam_allocations'][0]['description']
    assert description == '{{ 7 * 6 }}'
    templar = Templar(loader=DataLoader(), variables=hostvars)
    # Templating the value itself, or a trusted template that reaches it, leaves the text as it is.
    assert templar.template(description) == '{{ 7 * 6 }}'
    assert templar.template(hostvars['ipam_allocations']) == hostvars['ipam_allocations']
    assert templar.template(hostvars['ansible_host']) == '10.0.0.3'


# -- constructed -----------------------------------------------------------------------

CONSTRUCTED = '''
compose:
  interface_count: ipam_allocations | length
  first_pool: ipam_allocations[0].pool
groups:
  multihomed: ipam_allocations | length > 1
  in_lab: "'lab' in (ipam_allocations | map(attribute='pool'))"
keyed_groups:
  - key: ipam_allocations | map(attribute='pool') | list
    prefix: pool
  - key: first_pool
    prefix: first
'''


def test_compose_groups_and_keyed_groups(inventory_loader, tmp_path, store):
    inventory = manager(inventory_loader, source_for(tmp_path, store, CONSTRUCTED))
    web01 = inventory.get_host('web01').get_vars()
    assert int(web01['interface_count']) == 3   # a string before ansible-core 2.19 (unsafe inputs)
    assert web01['first_pool'] == 'lab'
    assert int(inventory.get_host('db01').get_vars()['interface_count']) == 1
    assert group_hosts(inventory, 'multihomed') == ['web01']
    assert group_hosts(inventory, 'in_lab') == ['db01', 'web01']
    assert group_hosts(inventory, 'pool_lab') == ['db01', 'web01']
    assert group_hosts(inventory, 'pool_lab_6_v2') == ['web01']
    assert group_hosts(inventory, 'first_lab') == ['db01', 'web01']


BROKEN_COMPOSE = '''
compose:
  good: ipam_allocations | length
  broken: no_such_variable.attribute
groups:
  broken_group: no_such_variable.attribute
keyed_groups:
  - key: no_such_variable.attribute
'''


def test_strict_false_skips_expressions_that_fail(inventory_loader, tmp_path, store):
    inventory = parse(inventory_loader, source_for(tmp_path, store, BROKEN_COMPOSE + 'strict: false\n'))
    web01 = inventory.get_host('web01').get_vars()
    assert int(web01['good']) == 3
    assert 'broken' not in web01
    assert 'broken_group' not in inventory.groups


def test_strict_true_fails_on_an_expression_that_fails(inventory_loader, tmp_path, store):
    with pytest.raises(AnsibleError, match='no_such_variable'):
        parse(inventory_loader, source_for(tmp_path, store, BROKEN_COMPOSE + 'strict: true\n'))


# -- one read per parse, and the cache ---------------------------------------------------

@pytest.fixture
def read_counter(monkeypatch):
    """Count reads of the real file backend (the real method still runs)."""
    calls = []
    real = FileBackend.allocations

    def counting(self, *args, **kwargs):
        calls.append((args, kwargs))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(FileBackend, 'allocations', counting)
    return calls


def test_one_backend_read_per_parse(inventory_loader, tmp_path, store, read_counter):
    parse(inventory_loader, source_for(tmp_path, store, CONSTRUCTED + 'pools: [lab, lab-6.v2]\n'))
    assert read_counter == [((), {})]


def test_cache_serves_the_next_parse_until_refreshed(inventory_loader, tmp_path, store, read_counter):
    cache_dir = tmp_path / 'cache'
    source = source_for(tmp_path, store, 'cache: true\ncache_plugin: ansible.builtin.jsonfile\ncache_connection: %s\n' % cache_dir)
    plugin = inventory_loader.get('ipam.allocator.allocations')

    first = InventoryData()
    plugin.parse(first, DataLoader(), source, cache=True)
    plugin.update_cache_if_changed()
    assert len(read_counter) == 1
    assert os.listdir(str(cache_dir))

    with load_backend({'store': store}) as backend:
        backend.allocate('lab', 'new01/eth0')

    cached = InventoryData()
    plugin = inventory_loader.get('ipam.allocator.allocations')
    plugin.parse(cached, DataLoader(), source, cache=True)
    assert len(read_counter) == 1, 'the second parse must come from the cache'
    assert sorted(cached.hosts) == ['db01', 'web01']
    assert cached.get_host('web01').get_vars()['ipam_allocations'] == first.get_host('web01').get_vars()['ipam_allocations']

    refreshed = InventoryData()
    plugin = inventory_loader.get('ipam.allocator.allocations')
    plugin.parse(refreshed, DataLoader(), source, cache=False)   # what --flush-cache / refresh_inventory do
    assert len(read_counter) == 2
    assert sorted(refreshed.hosts) == ['db01', 'new01', 'web01']


def test_cached_strings_are_never_templated(inventory_loader, tmp_path, store):
    from ansible.template import Templar

    cache_dir = tmp_path / 'cache'
    source = source_for(tmp_path, store, 'cache: true\ncache_plugin: ansible.builtin.jsonfile\ncache_connection: %s\n' % cache_dir)
    plugin = inventory_loader.get('ipam.allocator.allocations')
    plugin.parse(InventoryData(), DataLoader(), source, cache=True)
    plugin.update_cache_if_changed()
    inventory = InventoryData()
    plugin = inventory_loader.get('ipam.allocator.allocations')
    plugin.parse(inventory, DataLoader(), source, cache=True)
    hostvars = inventory.get_host('db01').get_vars()
    assert Templar(loader=DataLoader(), variables=hostvars).template(hostvars['ipam_allocations'][0]['description']) == '{{ 7 * 6 }}'


# -- errors: a clear AnsibleParserError, the store untouched ---------------------------

def test_missing_store_is_an_error(inventory_loader, tmp_path):
    missing = str(tmp_path / 'typo.yml')
    with pytest.raises(AnsibleParserError, match='store %s does not exist' % missing):
        parse(inventory_loader, source_for(tmp_path, missing))
    assert not os.path.exists(missing)


def test_missing_store_directory_is_an_error(inventory_loader, tmp_path):
    with pytest.raises(AnsibleParserError, match='does not exist'):
        parse(inventory_loader, source_for(tmp_path, str(tmp_path / 'nodir' / 'store.sqlite')))


def test_no_store_at_all_is_an_error(inventory_loader, tmp_path, monkeypatch):
    monkeypatch.delenv('IPAM_ALLOCATOR_STORE', raising=False)
    with pytest.raises(AnsibleParserError, match='needs a store path'):
        parse(inventory_loader, write_source(tmp_path, 'plugin: ipam.allocator.allocations\n'))


@pytest.mark.parametrize('name, content, message', [
    ('store.yml', 'pools: [unclosed\n', 'not valid YAML'),
    ('store.json', '{"version": 1, "pools": {"lab": {"cidr": "10.0.0.0/24", "addresses": [{"name": "a", "address": "10.9.9.9"}]}}}',
     'outside'),
    ('store.yml', 'version: 99\npools: {}\n', 'version 99'),
    ('store.sqlite', 'this is not a database', 'store'),
])
def test_damaged_store_is_a_clear_error(inventory_loader, tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(AnsibleParserError, match=message) as raised:
        parse(inventory_loader, source_for(tmp_path, str(path)))
    assert 'cannot read the file backend' in str(raised.value)
    assert path.read_text() == content


def test_unknown_backend_is_a_clear_error(inventory_loader, tmp_path):
    with pytest.raises(AnsibleParserError, match="Unknown backend 'nosuch'"):
        parse(inventory_loader, write_source(tmp_path, 'plugin: ipam.allocator.allocations\nbackend: nosuch\n'))


def test_other_plugin_name_is_refused(inventory_loader, tmp_path, store):
    with pytest.raises(AnsibleParserError, match='Incorrect plugin name'):
        parse(inventory_loader, write_source(tmp_path, 'plugin: some.other.plugin\nstore: %s\n' % store))


def test_manager_reports_errors_without_a_traceback(inventory_loader, tmp_path, capfd):
    """Through the InventoryManager the user sees our message, and no traceback."""
    missing = str(tmp_path / 'typo.sqlite')
    inventory = manager(inventory_loader, source_for(tmp_path, missing))
    assert not inventory.hosts
    err = capfd.readouterr().err
    # Older ansible-core wraps warnings at the terminal width: compare without whitespace.
    assert ''.join(('store %s does not exist' % missing).split()) in ''.join(err.split())
    assert 'Traceback' not in err


def test_two_names_on_one_address_in_a_hand_edited_store_are_a_warning(inventory_loader, tmp_path, monkeypatch):
    """Both hosts are read as the store holds them (the read is exact), and the parse says loudly what is wrong."""
    path = tmp_path / 'store.yml'
    path.write_text('version: 1\npools:\n  lab:\n    cidr: 10.0.0.0/24\n    addresses:\n'
                    '      - {name: web01/eth0, address: 10.0.0.5}\n      - {name: web02/eth0, address: 10.0.0.5}\n')
    warnings = []
    plugin = inventory_loader.get('ipam.allocator.allocations')
    monkeypatch.setattr(plugin.display, 'warning', lambda message, *args, **kwargs: warnings.append(message))
    inventory = InventoryData()
    plugin.parse(inventory, DataLoader(), source_for(tmp_path, str(path)), cache=False)
    assert sorted(inventory.hosts) == ['web01', 'web02']
    assert [message for message in warnings if "10.0.0.5 is held by both 'web01/eth0' and 'web02/eth0'" in message
            and str(path) in message] != []
