# -*- coding: utf-8 -*-
# Copyright (c) ipam.allocator contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ipam.allocator collection: no compatibility guarantee for other users.

"""Secrets of the remote backends: the API token made fit to send, and scrubbed from every message.

A token reaches a message in more forms than its own text: quoted or escaped by a
library that rejects a header (``'Token 0123...\\n'``), JSON- or URL-escaped by a
server that echoes it, cut short by a message that is truncated, or only its secret
half (NetBox v2 tokens are ``nbt_<key>.<secret>``).  ``Redactor`` replaces each of
them, whatever the token's length.
"""

from __future__ import annotations

import functools
import json
import re
from urllib.parse import quote, quote_plus

from .errors import BackendError, IpamError

MASK = '********'
#: Any run of this many characters of a secret is masked: what is left of a token cut short by a
#: truncated message, or a server that echoes part of it.  Shorter runs are common in ordinary text.
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
            if not secret:
                continue
            forms.update(_forms(secret))
        # A long form is masked wherever any FRAGMENT characters of it appear: the whole form, what is left of it
        # at a cut, and the secret half of a NetBox v2 token (nbt_<key>.<secret>) alone.
        self._pieces = {form[start:start + FRAGMENT] for form in forms if len(form) >= FRAGMENT
                        for start in range(len(form) - FRAGMENT + 1)}
        short = sorted((form for form in forms if len(form) < FRAGMENT), key=len, reverse=True)
        self._short = re.compile('|'.join(_ALONE % re.escape(form) for form in short)) if short else None

    def scrub(self, text):
        """``text`` with every form, and every run of ``FRAGMENT`` characters, of a secret replaced by ``MASK``."""
        text = str(text)
        masked = [False] * len(text)
        for start in range(len(text) - FRAGMENT + 1):
            if text[start:start + FRAGMENT] in self._pieces:
                masked[start:start + FRAGMENT] = [True] * FRAGMENT
        if self._short is not None:
            for match in self._short.finditer(text):
                masked[match.start():match.end()] = [True] * (match.end() - match.start())
        if not any(masked):
            return text
        parts = []
        for index, character in enumerate(text):
            if not masked[index]:
                parts.append(character)
            elif index == 0 or not masked[index - 1]:
                parts.append(MASK)
        return ''.join(parts)


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
