# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The guides in docs/*.md as antsibull-docs extra docs: docs/docsite/rst/<guide>.rst.

antsibull-docs takes a collection's extra docs as reStructuredText only, listed in
docs/docsite/extra-docs.yml. The guides stay Markdown (what the repository shows); this
writes their reStructuredText with pandoc (pypandoc-binary), and
- gives each one the label antsibull-docs requires (``ansible_collections.ipam.allocator.docsite.<guide>``),
- turns a link to another guide into a reference to its label,
- turns a link to any other file of the repository into its path as literal text (the site
  holds the guides and the plugin pages, not the rest of the repository),
- refuses a link to anything outside the repository: the guides cite the repository only.

    python tests/utils/guides_to_rst.py            # write docs/docsite/rst/*.rst (make docs does)
    python tests/utils/guides_to_rst.py --check    # exit 1 if they are not what the guides give
"""

from __future__ import annotations

import argparse
import os
import re
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GUIDES = os.path.join(REPO, 'docs')
OUT = os.path.join(REPO, 'docs', 'docsite', 'rst')
LABEL = 'ansible_collections.ipam.allocator.docsite.%s'
HEADER = '..\n  Generated from docs/%s.md by tests/utils/guides_to_rst.py (make docs): edit the Markdown, not this file.\n\n'

# Addresses a guide may show as examples of a setting: never links, never anything fetched.
EXAMPLE_HOSTS = re.compile(r'^https?://([a-z0-9-]+\.)*example\.(com|org|net)(/|$)|^https?://(localhost|127\.0\.0\.1)(:\d+)?(/|$)')


def guides():
    return sorted(name[:-3] for name in os.listdir(GUIDES) if name.endswith('.md'))


def _link(match, known, problems, guide):
    text, target = match.group('text'), match.group('target')
    text = text.strip().replace('\n', ' ')
    if re.match(r'^[a-z][a-z0-9+.-]*:', target):
        if EXAMPLE_HOSTS.match(target):
            return '``%s``' % target
        problems.append('docs/%s.md links outside the repository: %s' % (guide, target))
        return text
    if target.startswith('#'):
        return '`%s <%s>`__' % (text.strip('`'), target)
    path, _hash, _anchor = target.partition('#')
    name = os.path.normpath(os.path.join('docs', path))
    stem = os.path.splitext(os.path.basename(path))[0]
    if os.path.dirname(name) == 'docs' and path.endswith('.md') and stem in known:
        return ':ref:`%s <%s>`' % (text.strip('`'), LABEL % stem)
    if name.startswith('..') or not os.path.exists(os.path.join(REPO, name)):
        problems.append('docs/%s.md links to %s, which is not a file of the repository' % (guide, target))
        return text
    literal = '``%s``' % name
    return literal if text.strip('`') in (name, path, os.path.basename(path)) else '%s (%s)' % (text, literal)


# pandoc writes a link as `text <target>`__ (or `text <target>`_ with a name), an image as a directive.
LINK = re.compile(r'`(?P<text>``[^`]+``|[^`<]+?)\s*<(?P<target>[^>`]+)>`__?')
IMAGE = re.compile(r'^(?P<indent>\s*)\.\. (?:\|[^|]+\| )?(?:image|figure):: (?P<target>\S+)\n(?:(?P=indent)   :.*\n)*', re.M)


def convert(guide, known, problems):
    import pypandoc  # pylint: disable=import-outside-toplevel,import-error
    source = os.path.join(GUIDES, guide + '.md')
    with open(source, encoding='utf-8') as handle:
        markdown = handle.read()
    # No heading identifiers: pandoc would write them as labels, and extra docs may only have ours.
    rst = pypandoc.convert_text(markdown, 'rst', format='gfm-gfm_auto_identifiers', extra_args=['--wrap=none'])
    rst = re.sub(r'^(\s*\.\. code(?:-block)?::) jsonc$', r'\1 javascript', rst, flags=re.M)  # no 'jsonc' lexer
    images = dict(re.findall(r'^\s*\.\. \|([^|]+)\| image:: (\S+)$', rst, flags=re.M))
    rst = IMAGE.sub('', rst)
    for alt, target in images.items():
        rst = rst.replace('|%s|' % alt, '%s (picture: ``docs/%s`` in the repository)' % (alt, target))
    rst = LINK.sub(lambda m: _link(m, known, problems, guide), rst)
    for url in re.findall(r'https?://[^\s`<>)]+', rst):
        if not EXAMPLE_HOSTS.match(url):
            problems.append('docs/%s.md cites %s, outside the repository' % (guide, url))
    return HEADER % guide + '.. _%s:\n\n' % (LABEL % guide) + rst.rstrip('\n') + '\n'


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--check', action='store_true', help='only check that docs/docsite/rst is up to date')
    args = parser.parse_args(argv)
    known = guides()
    problems, stale = [], []
    os.makedirs(OUT, exist_ok=True)
    wanted = {}
    for guide in known:
        wanted[guide + '.rst'] = convert(guide, known, problems)
    present = {name for name in os.listdir(OUT) if name.endswith('.rst')}
    for name, text in wanted.items():
        path = os.path.join(OUT, name)
        current = open(path, encoding='utf-8').read() if os.path.exists(path) else None
        if current != text:
            stale.append(name)
            if not args.check:
                with open(path, 'w', encoding='utf-8') as handle:
                    handle.write(text)
    for name in sorted(present - set(wanted)):
        stale.append(name)
        if not args.check:
            os.unlink(os.path.join(OUT, name))
    for problem in problems:
        print('ERROR: %s' % problem, file=sys.stderr)
    if args.check and stale:
        print('docs/docsite/rst is not what docs/*.md give (run make docs): %s' % ', '.join(stale), file=sys.stderr)
    elif stale:
        print('wrote %s' % ', '.join(sorted(stale)))
    return 1 if problems or (args.check and stale) else 0


if __name__ == '__main__':
    sys.exit(main())
