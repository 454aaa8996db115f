# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``make bench``: run every benchmark, then write docs/performance.md and its plot from the results.

    .venv/bin/python bench/run.py [--quick] [--only engine,store,playbook,inventory,remote,bulk,bulk_group]

Results also go to bench/results/latest.json. Nothing here runs in ``make test``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_bulk  # noqa: E402
import bench_engine  # noqa: E402
import bench_playbook  # noqa: E402
import bench_store  # noqa: E402
from common import REPO, machine  # noqa: E402

DOC = os.path.join(REPO, 'docs', 'performance.md')
PLOT = os.path.join(REPO, 'docs', 'performance-store.png')
RESULTS = os.path.join(REPO, 'bench', 'results', 'latest.json')


def run_inventory():
    completed = subprocess.run([sys.executable, os.path.join(REPO, 'bench', 'bench_inventory.py'), '--json'],
                               stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(completed.stdout)


def run_remote():
    script = os.path.join(REPO, 'bench', 'bench_remote.py')
    completed = subprocess.run([sys.executable, script, '--json'], stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(completed.stdout)


def verdict(ratio, target):
    return 'met' if ratio <= target else '**missed by %.0f%%**' % ((ratio / target - 1) * 100)


def milliseconds(seconds):
    return '%.2f ms' % (seconds * 1000) if seconds < 10 else '%.1f s' % seconds


def plot(store_results):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    figure, axes = plt.subplots(figsize=(7, 4.2))
    labels = {'yml': 'YAML', 'json': 'JSON', 'sqlite': 'SQLite'}
    for extension, label in labels.items():
        rows = [row for row in store_results if row['format'] == extension]
        if rows:
            axes.plot([row['records'] for row in rows], [row['seconds'] * 1000 for row in rows], marker='o', label=label)
            if 'baseline_seconds' in rows[0]:
                axes.plot([row['records'] for row in rows], [row['baseline_seconds'] * 1000 for row in rows], linestyle=':',
                          marker='.', label='%s parse + dump (baseline)' % label)
    axes.set_xscale('log')
    axes.set_yscale('log')
    axes.set_xlabel('records in the store')
    axes.set_ylabel('one allocation (ms)')
    axes.set_title('ipam.allocator file store: cost of one allocation')
    axes.grid(True, which='both', alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(PLOT, dpi=110)


def engine_section(engine):
    lines = ['## 1. Engine: one allocation in process', '',
             'Per allocation, `plan_address` + `apply` on a pool in memory, %d allocations timed after the pool is loaded '
             '(`bench/bench_engine.py`). Live allocations are fragmented (every other address held), the hard case.' % engine['operations'], '',
             '| pool | live allocations | per allocation | ratio |', '|---|---|---|---|']
    base = engine['by_size'][0]['seconds']
    for row in engine['by_size']:
        lines.append('| %s | %d | %.1f µs | %.2f× the /24 |' % (row['pool'], row['live'], row['seconds'] * 1e6, row['seconds'] / base))
    base_live = engine['by_live'][0]['seconds']
    for row in engine['by_live']:
        ratio = row['seconds'] / base_live
        lines.append('| %s | %s | %.1f µs | %.2f× 100 live |' % (row['pool'], format(row['live'], ','), row['seconds'] * 1e6, ratio))
    worst_size = max(row['seconds'] for row in engine['by_size'][1:]) / base
    live_ratio = engine['by_live'][-1]['seconds'] / base_live
    lines += ['', 'Targets: a /8 or /64 within 2× of a /24: %.2f×, %s. The most live allocations within 3× of 100: %.2f×, %s.' % (
        worst_size, verdict(worst_size, 2), live_ratio, verdict(live_ratio, 3)), '']
    return lines


def store_section(store):
    lines = ['## 2. File store: one allocation, end to end', '',
             'A fresh backend per allocation, as each task does: lock, read, plan, write a temporary file, fsync, rename, '
             'fsync the directory (`bench/bench_store.py`). Baselines from the same run on the same document: YAML, '
             '`yaml.load(CSafeLoader)` + `yaml.dump(CSafeDumper)`; JSON, `json.loads` + `json.dumps` (no lock, no fsync).', '',
             '| format | records | file size | per allocation | baseline parse + dump | ratio |', '|---|---|---|---|---|---|']
    for row in store:
        baseline = row.get('baseline_seconds')
        lines.append('| %s | %s | %s | %s | %s | %s |' % (
            row['format'], format(row['records'], ','), '%.1f MB' % (row['bytes'] / 1e6) if row['bytes'] > 1e5 else '%d kB' % (row['bytes'] // 1000),
            milliseconds(row['seconds']), milliseconds(baseline) if baseline else '', '%.2f×' % (row['seconds'] / baseline) if baseline else ''))
    notes = []
    for extension in ('yml', 'json'):
        rows = [row for row in store if row['format'] == extension and row['records'] >= 10000]
        if rows:
            worst = max(row['seconds'] / row['baseline_seconds'] for row in rows)
            notes.append('%s at 10k+ records: worst %.2f× its baseline, target ≤ 1.5×, %s.' % (extension.upper(), worst, verdict(worst, 1.5)))
    sqlite = {row['records']: row['seconds'] for row in store if row['format'] == 'sqlite'}
    if 1000 in sqlite and len(sqlite) > 1:
        largest = max(sqlite)
        ratio = sqlite[largest] / sqlite[1000]
        notes.append('SQLite at %s records: %.2f× its cost at 1k, target ≤ 2×, %s.' % (format(largest, ','), ratio, verdict(ratio, 2)))
    lines += [''] + ['- ' + note for note in notes] + ['', '![per-allocation cost vs store size](performance-store.png)', '']
    lines += ['Small stores are dominated by the two fsyncs (file and directory) that make a write durable; the YAML and '
              'JSON baselines do no I/O at all. From 10k records on, parsing dominates: the YAML store reads its own layout '
              'with a line reader (PyYAML is the fallback for hand-edited files) and writes it line by line, which is why it beats '
              'libyaml-backed PyYAML. SQLite keeps an index of occupied intervals, so its cost stays flat.', '']
    return lines


def playbook_section(playbook):
    medians = playbook['median_seconds']
    base = medians['set_fact']
    lines = ['## 3. Playbook: %d hosts, `-f %d`, one task' % (playbook['hosts'], playbook['forks']), '',
             'Wall time of `ansible-playbook`, median of %d interleaved rounds, a fresh %s store each run (`bench/bench_playbook.py`).' % (
                 playbook['rounds'], playbook['store'].upper()), '',
             '| task | wall time | ratio to `set_fact` | ratio to `set_fact` of the same two templated values |', '|---|---|---|---|']
    templated = medians.get('set_fact_templated')
    labels = {'set_fact': '`set_fact` from a constant (baseline)',
              'set_fact_templated': '`set_fact` of `"{{ store }}"` and `"{{ inventory_hostname }}"` (what templating two arguments costs)',
              'lookup': "`set_fact` from `lookup('ipam.allocator.next_ip', ..., name=inventory_hostname)`",
              'ip_address': '`ipam.allocator.ip_address` (action plugin on the controller)',
              'ping_delegated': '`ansible.builtin.ping` with `delegate_to: localhost` (a module per host, for the record)'}
    for name, label in labels.items():
        if name not in medians:
            continue
        like_for_like = '%.2f×' % (medians[name] / templated) if templated and name != 'set_fact' else ''
        lines.append('| %s | %.2f s | %.2f× | %s |' % (label, medians[name], medians[name] / base, like_for_like))
    lookup_ratio, module_ratio = medians['lookup'] / base, medians['ip_address'] / base
    lines += ['', 'Targets ≤ 1.25×: lookup %.2f×, %s; `ip_address` %.2f×, %s.' % (
        lookup_ratio, verdict(lookup_ratio, 1.25), module_ratio, verdict(module_ratio, 1.25)), '']
    return lines


def inventory_section(inventory):
    lines = ['## 4. Inventory: `ansible-inventory --list`', '', '`bench/bench_inventory.py`: %s.' % inventory.get('description', ''), '',
             '| source | median | ratio to static YAML |', '|---|---|---|']
    for row in inventory['rows']:
        lines.append('| %s | %.2f s | %s |' % (row['source'], row['seconds'], '%.2f×' % row['ratio'] if row.get('ratio') else ''))
    worst = max(row['ratio'] for row in inventory['rows'] if row.get('ratio'))
    lines += ['', 'Target ≤ 2×: %.2f×, %s.' % (worst, verdict(worst, 2)), '']
    return lines


def remote_section(remote):
    lines = ['## 5. Remote backends', '', remote.get('description', ''), '', '| server | measure | value | target |', '|---|---|---|---|']
    for row in remote['rows']:
        lines.append('| %s | %s | %s | %s |' % (row['server'], row['measure'], row['value'], row.get('target', '')))
    return lines + ['']


def bulk_section(bulk, group):
    lines = ['## 6. Many names in one task (issue 14)', '']
    if bulk:
        lines += ['### 10,000 names in one `ip_address` task', '',
                  'One `ansible-playbook` run per store format on `localhost`, median of %d rounds, a fresh store each '
                  '(`bench/bench_bulk.py`). Each task\'s wall time is measured by a callback from its start to the next '
                  'task\'s start: ansible-core\'s templating of the arguments, the action, and passing the result back. '
                  'The single-name task runs first, on the new store; the 10,000 names come from a variable '
                  '(`names: "{{ bench_names }}"`), as `groups[...]` would. Load average during the part: %s.' % (
                      bulk['rounds'], ', '.join('%.1f' % value for value in bulk.get('load_average', ()))), '',
                  '| store | one name | %s names | ratio | rerun of the %s | one name on the full store | `set_fact` of the same list | '
                  'in process: one name / %s names |' % ((format(bulk['names'], ','),) * 3),
                  '|---|---|---|---|---|---|---|---|']
        for row in bulk['rows']:
            lines.append('| %s | %s | %s | %.1f× | %s | %s | %s | %s / %s |' % (
                row['format'], milliseconds(row['single']), milliseconds(row['bulk']), row['bulk'] / row['single'],
                milliseconds(row['rerun']), milliseconds(row['single_full']), milliseconds(row['templating']),
                milliseconds(row['in_process_single']), milliseconds(row['in_process_bulk'])))
        worst = max(row['bulk'] / row['single'] for row in bulk['rows'])
        beyond = max((row['bulk'] - row['templating']) / row['single'] for row in bulk['rows'])
        lines += ['', 'Target: %s names within 3× of one single-name task: worst %.1f×, %s. Without what ansible-core '
                  'spends templating the list (the `set_fact` column), the worst is %.1f× (see below).' % (
                      format(bulk['names'], ','), worst, verdict(worst, 3), beyond), '']
    if group:
        medians = group['median_seconds']
        base = medians['set_fact']
        cpu = group.get('median_cpu_seconds', {})
        lines += ['### P3b: %d hosts, `-f %d`, addresses from one `run_once` bulk task' % (group['hosts'], group['forks']), '',
                  'Wall time of `ansible-playbook`, median of %d interleaved rounds, a fresh YAML store each run; and the CPU '
                  'time (user + system) of `ansible-playbook` and its workers, which other work on the machine disturbs far '
                  'less than the wall time (load average %s during the part).' % (
                      group['rounds'], ', '.join('%.1f' % value for value in group.get('load_average', ()))), '',
                  '| play | wall time | ratio to `set_fact` | CPU time | ratio to `set_fact` |', '|---|---|---|---|---|']
        labels = {'set_fact': '`set_fact` from a constant (baseline)',
                  'set_fact_templated': '`set_fact` of `"{{ inventory_hostname }}"` (one templated value per host)',
                  'run_once_then_templated': 'a `run_once` `debug` task, then that `set_fact` (the same shape of play, '
                                             'nothing allocated)',
                  'bulk_run_once': '`ip_address` with `names: "{{ ansible_play_hosts }}"`, `run_once`, then `set_fact` of '
                                   'the host\'s own address from the registered `allocations`'}
        for name, label in labels.items():
            if name in medians:
                cpu_cells = ('%.2f s | %.2f×' % (cpu[name], cpu[name] / cpu['set_fact'])) if name in cpu else ' | '
                lines.append('| %s | %.2f s | %.2f× | %s |' % (label, medians[name], medians[name] / base, cpu_cells))
        ratio = medians['bulk_run_once'] / base
        line = 'Target ≤ 1.10×: wall time %.2f×, %s' % (ratio, verdict(ratio, 1.10))
        if 'bulk_run_once' in cpu:
            cpu_ratio = cpu['bulk_run_once'] / cpu['set_fact']
            line += '; CPU time %.2f×, %s' % (cpu_ratio, verdict(cpu_ratio, 1.10))
        like = medians.get('run_once_then_templated')
        if like and 'run_once_then_templated' in cpu:
            line += ('. Against the same shape of play with nothing allocated: wall time %.2f×, CPU time %.2f×' % (
                medians['bulk_run_once'] / like, cpu['bulk_run_once'] / cpu['run_once_then_templated']))
        lines += ['', line + '.', '']
    return lines


# Sections of the page by the part that measures them: a part not measured in this run keeps its text.
SECTION_HEADINGS = {'engine': '## 1.', 'store': '## 2.', 'playbook': '## 3.', 'inventory': '## 4.', 'remote': '## 5.',
                    'bulk': '## 6.'}


def kept_sections():
    """The current page's numbered sections, by part, as they are written."""
    if not os.path.exists(DOC):
        return {}
    with open(DOC, encoding='utf-8') as handle:
        text = handle.read()
    sections = {}
    for part, heading in SECTION_HEADINGS.items():
        start = text.find('\n' + heading)
        if start < 0:
            continue
        end = text.find('\n## ', start + 1)
        sections[part] = text[start + 1:end if end >= 0 else len(text)].rstrip('\n').split('\n') + ['']
    return sections


def kept_date():
    """The date of the run whose figures the current page keeps (its own, or the one it already names)."""
    with open(DOC, encoding='utf-8') as handle:
        text = handle.read()
    found = re.search(r'keep their figures from the run of ([0-9-]+)', text) or re.search(r'Measured by `[^`]*` on ([0-9-]+)', text)
    return found.group(1) if found else 'an earlier date'


def write_doc(results, command):
    info = results['machine']
    lines = ['# Performance', '',
             'Measured by `%s` on %s. Every ratio is against a baseline measured in the same run. '
             'No test in `make test` depends on timing.' % (command, results['date']), '',
             'Machine: %s, %d cores, Python %s, %s, %s.' % (info['cpu'], info['cores'], info['python'], info['ansible'], info['os']), '']
    kept = kept_sections()
    if any(part in kept and part not in results for part in SECTION_HEADINGS):
        lines += ['Parts not measured in this run (%s) keep their figures from the run of %s.' % (', '.join(
            sorted(part for part in SECTION_HEADINGS if part in kept and part not in results)), kept_date()), '']
    sections = (('engine', engine_section), ('store', store_section), ('playbook', playbook_section),
                ('inventory', inventory_section), ('remote', remote_section))
    for part, section in sections:
        if part in results:
            lines += section(results[part])
        elif part in kept:
            lines += kept[part]
    if 'bulk' in results or 'bulk_group' in results:
        lines += bulk_section(results.get('bulk'), results.get('bulk_group'))
    elif 'bulk' in kept:
        lines += kept['bulk']
    notes = os.path.join(REPO, 'bench', 'notes.md')
    if os.path.exists(notes):
        with open(notes, encoding='utf-8') as handle:
            lines += [handle.read().rstrip(), '']
    with open(DOC, 'w', encoding='utf-8') as handle:
        handle.write('\n'.join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--quick', action='store_true', help='smaller sizes and fewer rounds, to try the harness')
    parser.add_argument('--only', default='engine,store,playbook,inventory,remote,bulk,bulk_group',
                        help='comma-separated parts to run; "none" only rewrites the page from the saved results')
    arguments = parser.parse_args()
    selected = arguments.only.split(',')
    results = {}
    if os.path.exists(RESULTS):
        with open(RESULTS, encoding='utf-8') as handle:
            results = json.load(handle)
    results.update(machine=machine(), date=datetime.date.today().isoformat())
    if 'engine' in selected:
        results['engine'] = bench_engine.run(arguments.quick)
    if 'store' in selected:
        results['store'] = bench_store.run(arguments.quick)
    if 'playbook' in selected:
        results['playbook'] = bench_playbook.run(rounds=1 if arguments.quick else 5)
    if 'inventory' in selected:
        results['inventory'] = run_inventory()
    if 'remote' in selected and os.path.exists(os.path.join(REPO, 'bench', 'bench_remote.py')):
        results['remote'] = run_remote()
    if 'bulk' in selected:
        results['bulk'] = bench_bulk.run_names(rounds=1 if arguments.quick else 3)
    if 'bulk_group' in selected:
        results['bulk_group'] = bench_bulk.run_group(rounds=1 if arguments.quick else 5)
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, 'w', encoding='utf-8') as handle:
        json.dump(results, handle, indent=2)
    if 'store' in results:
        plot(results['store'])
    write_doc(results, 'bench/run.py --quick' if arguments.quick else 'make bench')
    print('wrote %s' % DOC)


if __name__ == '__main__':
    main()
