"""Addresses forgotten on request, kept as keyed hashes so that no import adds them back.

``newsletter subscribers forget`` removes a person everywhere, but an old export
imported next month would bring them back without a word. So each forgotten address
leaves one line in ``forgotten.txt`` at the project's root: an HMAC-SHA256 of the
address (case-folded) under a key derived from the project's secret
(``NEWSLETTER_SECRET``, the same on every machine and in CI). The file holds no
address and nothing anyone without the secret can test a guessed address against
(a plain hash of an address can be reversed by trying likely ones), and its lines are
sorted, so it does not even say in which order people left: it is meant to be
committed, so that every clone refuses the address too. The key is not the
unsubscribe tokens' (a different derivation), so a token in an old email does not
match a line here.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from newsletter.files import write_file

FILE = "forgotten.txt"
_HEAD = (
    "# Addresses forgotten on request (newsletter subscribers forget): keyed hashes, never an address.\n"
    "# An import refuses to add any of them back. Keep this file (it holds no personal data).\n"
)


class Forgotten:
    """The register of one project (``<root>/forgotten.txt``)."""

    def __init__(self, root: Path, secret: bytes) -> None:
        self.path = root / FILE
        self._key = hmac.new(secret, b"newsletter forgotten addresses v1", hashlib.sha256).digest()
        self._hashes = self._read()

    def _read(self) -> set[str]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return set()
        return {line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")}

    def hash(self, address: str) -> str:
        return hmac.new(self._key, address.strip().casefold().encode("utf-8"), hashlib.sha256).hexdigest()

    def __contains__(self, address: object) -> bool:
        return isinstance(address, str) and self.hash(address) in self._hashes

    def __len__(self) -> int:
        return len(self._hashes)

    def add(self, address: str) -> bool:
        """Record the address (written at once); False when it was already there."""
        digest = self.hash(address)
        if digest in self._hashes:
            return False
        self._hashes.add(digest)
        write_file(self.path, _HEAD + "".join(f"{h}\n" for h in sorted(self._hashes)))
        return True

    def stand_in(self, address: str) -> str:
        """What the journal keeps in place of the address: not an address, and not the
        register's line (16 hex digits of a second keyed hash)."""
        return (
            "forgotten-"
            + hmac.new(self._key, b"stand-in " + address.strip().casefold().encode("utf-8"), hashlib.sha256).hexdigest()[:16]
        )
