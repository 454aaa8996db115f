# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""What each module does, once: called by the module's ``main()`` and by its action plugin.

A runner takes a backend and validated parameters and returns the result dict;
``IpamError`` escapes to the caller, which turns it into the failure of its kind.
"""

from __future__ import annotations

from .argspec import backend_options
from .registry import load_backend
from .core.bulk import AddressRequest, PrefixRequest, requests_from_items
from .core.errors import PoolNotFoundError

ADDRESS_KEYS = ('address', 'cidr', 'prefix_length', 'gateway', 'pool', 'name', 'description', 'dns_name')
POOL_KEYS = ('name', 'cidr', 'ranges', 'reserved', 'gateway', 'description', 'min_prefix_length',
             'max_prefix_length', 'default_prefix_length', 'parent')


def run_ip_pool(backend, params, check_mode):
    if params['state'] == 'absent':
        outcome = backend.remove_pool(params['name'], force=params['force'], check_mode=check_mode)
        pool = outcome.before
    else:
        outcome = backend.ensure_pool({key: params.get(key) for key in POOL_KEYS}, check_mode=check_mode)
        pool = outcome.after
    return {'changed': outcome.changed, 'pool': pool, 'diff': outcome.diff}


def _record_result(outcome, params, keys):
    """A module result from an allocation Outcome: the record's keys at top level, and the diff.

    ``state: present`` shows the record after, ``absent`` the one released (or just the request).
    """
    record = outcome.after if params['state'] == 'present' else outcome.before
    result = {'changed': outcome.changed, 'diff': outcome.diff}
    result.update((key, record.get(key)) for key in keys)
    if not record:
        result.update(pool=params['pool'], name=params.get('name'))
    return result


def _bulk_result(bulk, params, keys):
    """A module result for many names: ``allocations`` keyed by name, in the order given, and one diff.

    Each entry is what the single-name task returns at its top level, plus ``changed``.
    """
    allocations = {}
    for name, outcome in bulk.outcomes.items():
        record = outcome.after if params['state'] == 'present' else outcome.before
        # A record view has exactly ``keys``; copying it whole is what keeps 10,000 entries cheap.
        entry = dict(record) if record else dict(dict.fromkeys(keys), pool=params['pool'], name=name)
        entry['changed'] = outcome.changed
        allocations[name] = entry
    return {'changed': bulk.changed, 'pool': params['pool'], 'allocations': allocations, 'diff': bulk.diff}


def run_ip_address(backend, params, check_mode):
    if params.get('names') is not None:
        release = params['state'] == 'absent'
        requests = requests_from_items(params['names'], AddressRequest, release=release,
                                       defaults={key: params.get(key) for key in ('description', 'dns_name')})
        if release:
            bulk = backend.bulk_release(params['pool'], requests, check_mode=check_mode)
        else:
            bulk = backend.bulk_allocate(params['pool'], requests, check_mode=check_mode)
        return _bulk_result(bulk, params, ADDRESS_KEYS)
    if params['state'] == 'absent':
        outcome = backend.release(params['pool'], name=params.get('name'), address=params.get('address'),
                                  check_mode=check_mode)
    else:
        outcome = backend.allocate(params['pool'], params['name'], address=params.get('address'), mac=params.get('mac'),
                                   description=params.get('description'), dns_name=params.get('dns_name'),
                                   check_mode=check_mode)
    return _record_result(outcome, params, ADDRESS_KEYS)


PREFIX_KEYS = ('prefix', 'network', 'prefix_length', 'gateway', 'pool', 'name', 'description')


def run_ip_prefix(backend, params, check_mode):
    if params.get('names') is not None:
        release = params['state'] == 'absent'
        requests = requests_from_items(params['names'], PrefixRequest, release=release,
                                       defaults={key: params.get(key) for key in ('prefix_length', 'description')})
        if release:
            bulk = backend.bulk_release_prefix(params['pool'], requests, force=params['force'], check_mode=check_mode)
        else:
            bulk = backend.bulk_allocate_prefix(params['pool'], requests, check_mode=check_mode)
        return _bulk_result(bulk, params, PREFIX_KEYS)
    if params['state'] == 'absent':
        outcome = backend.release_prefix(params['pool'], name=params.get('name'), prefix=params.get('prefix'),
                                         force=params['force'], check_mode=check_mode)
    else:
        outcome = backend.allocate_prefix(params['pool'], params['name'], prefix_length=params.get('prefix_length'),
                                          prefix=params.get('prefix'), description=params.get('description'),
                                          check_mode=check_mode)
    return _record_result(outcome, params, PREFIX_KEYS)


def run_ip_address_info(backend, params, check_mode):
    pools = backend.pools(name=params.get('pool'))
    if params.get('pool') is not None and not pools:
        # As every other module: a pool that is not there is an error, not an empty answer.
        raise PoolNotFoundError('Pool %r does not exist in the %s backend' % (params['pool'], backend.name))
    allocations = backend.allocations(pool=params.get('pool'), name=params.get('name'), address=params.get('address'))
    return {'changed': False, 'allocations': allocations, 'pools': pools}


def run(runner, params, check_mode, pending=(), diff=True):
    """Open the backend the parameters name, run ``runner``, close the backend.

    Returns the result and the changes predicted in check mode (to pass on as ``pending``).
    Without ``diff`` (``--diff`` not asked for), a task for many names leaves its diff out:
    every record twice is what makes a large result slow for ansible-core to pass on.
    """
    with load_backend(backend_options(params)) as backend:
        backend.pending = list(pending or ())
        result = runner(backend, params, check_mode)
        if not diff and isinstance(result.get('allocations'), dict):
            result.pop('diff', None)
        if backend.warnings:
            result['warnings'] = list(backend.warnings)
        return result, backend.predicted
