# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""Secrets of the remote backends: the API token made fit to send, and scrubbed from every message.

A token reaches a message in more forms than its own text: quoted or escaped by a
library that rejects a header (``'Token 0123...\\n'``), JSON- or URL-escaped by a
server that echoes it, cut short by a message that is truncated or by a server that
shows its first characters, or only its secret half (NetBox v2 tokens are
``nbt_<key>.<secret>``).  ``Redactor`` replaces each of them, whatever the token's length.
"""

from __future__ import annotations

import functools
import json
import re
from urllib.parse import quote, quote_plus

from ..core.errors import BackendError, IpamError

MASK = '********'
#: The first or the last this many characters (or more) of a secret are masked wherever they appear: what is left
#: of a token where a message was cut, or what a server shows of it.  Fewer would mask ordinary words.
FRAGMENT = 8
#: A header value can carry printable ASCII; a token holds no white space (NetBox: letters, digits, "_", ".";
#: Nautobot: hex digits).
_TOKEN_CHARACTERS = re.compile(r'[\x21-\x7e]+')
# A secret shorter than FRAGMENT is masked only where it stands alone: a token "abc123" in "Invalid token abc123",
# but not the "x" in "NetBox" (a one-letter token is refused by the server anyway, and must not garble the message).
_ALONE = r'(?<![A-Za-z0-9])%s(?![A-Za-z0-9])'


def normalized_token(token, product):
    """The token as it is sent: without white space around it (a ``!vault |`` block ends with a newline).

    White space or control characters inside it are refused with a message that does not show it.
    """
    text = str(token).strip()
    if text and not _TOKEN_CHARACTERS.fullmatch(text):
        raise BackendError('The %s API token (option "token", or IPAM_ALLOCATOR_TOKEN and the like) has white space, '
                           'control or non-ASCII characters inside it, which no API token has and an HTTP header '
                           'cannot carry: check the value (a line break or a space pasted into it?). It is not shown '
                           'here because it is a secret.' % product)
    return text


def _forms(secret):
    """The spellings of ``secret`` a message may hold: as is, quoted by repr() or JSON, URL-encoded."""
    return {secret, repr(secret)[1:-1], json.dumps(secret)[1:-1], quote(secret, safe=''), quote_plus(secret, safe='')}


class Redactor:
    """Masks every form of the given secrets in a text."""

    def __init__(self, *secrets):
        forms = set()
        for secret in secrets:
            # Each part of a NetBox v2 token (nbt_<key>.<secret>) is a secret of its own, cut short like the whole.
            for part in {secret} | set(secret.split('.') if secret else ()):
                if part:
                    forms.update(_forms(part))
        pieces, alone = set(), set()
        for form in forms:
            if len(form) < FRAGMENT:
                alone.add(form)
            else:
                pieces.update(form[:length] for length in range(FRAGMENT, len(form) + 1))
                pieces.update(form[-length:] for length in range(FRAGMENT, len(form) + 1))
        # Longest first: at any place the whole form wins over a part of it.
        alternatives = [re.escape(piece) for piece in sorted(pieces, key=len, reverse=True)]
        alternatives += [_ALONE % re.escape(form) for form in sorted(alone, key=len, reverse=True)]
        self._pattern = re.compile('|'.join(alternatives)) if alternatives else None

    def scrub(self, text):
        """``text`` with every form of a secret, and its first or last ``FRAGMENT`` characters or more, replaced."""
        text = str(text)
        return text if self._pattern is None else self._pattern.sub(MASK, text)


def scrubbed(method):
    """A backend method whose errors are scrubbed by ``self.http.scrub``: a message may quote what the server holds
    (an object's description, an id) as well as what it answered.  The error keeps its type and attributes."""
    @functools.wraps(method)
    def scrubbing(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except IpamError as exc:
            exc.args = tuple(self.http.scrub(arg) if isinstance(arg, str) else arg for arg in exc.args)
            raise
    return scrubbing
