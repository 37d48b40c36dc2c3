"""The project's private state folder (``.newsletter/``) and the unsubscribe-token secret.

The folder holds the send journal and, unless ``NEWSLETTER_SECRET`` is set, the
secret that unsubscribe tokens are made with. It is git-ignored (a ``.gitignore``
inside it says so, whatever the project's own ignore file holds).
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from newsletter.errors import NewsletterError, display_path
from newsletter.files import create_file, write_file

STATE_DIR = ".newsletter"
SECRET_ENV = "NEWSLETTER_SECRET"
_SECRET_FILE = "secret"
RAW_PREFIX = "hex:"
"""``NEWSLETTER_SECRET=hex:<64 hex digits>`` is a key as ``.newsletter/secret`` holds it (so a
secret made there can move to the environment with every token unchanged); any other text
is hashed into a key."""


_IGNORE = b"# newsletter's private state: never commit it\n*\n"


def state_dir(root: Path) -> Path:
    """``<root>/.newsletter``, created (with its own ``.gitignore``) when missing; a
    ``.gitignore`` left empty or cut short (a full disk) is written again."""
    folder = root / STATE_DIR
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        ignore = folder / ".gitignore"
        try:
            whole = ignore.read_bytes() == _IGNORE
        except FileNotFoundError:
            whole = False
        if not whole:
            write_file(ignore, _IGNORE)
    except OSError as exc:
        raise NewsletterError(f"{display_path(folder)}: cannot create: {exc.strerror}") from None
    return folder


def load_secret(root: Path) -> bytes:
    """The key for unsubscribe tokens: ``NEWSLETTER_SECRET`` (see :data:`RAW_PREFIX`), else
    ``.newsletter/secret``.

    The file is made once with 32 random bytes and mode 0600, and reused so that
    a reader's token stays the same from issue to issue.
    """
    from_env = os.environ.get(SECRET_ENV, "")
    if from_env.startswith(RAW_PREFIX):  # a secret moved from .newsletter/secret, as its file holds it
        try:
            raw = bytes.fromhex(from_env[len(RAW_PREFIX) :].strip())
        except ValueError:
            raw = b""
        if len(raw) != 32:
            raise NewsletterError(
                f"{SECRET_ENV}: after '{RAW_PREFIX}' it must hold 64 hex digits "
                "(the contents of a .newsletter/secret file); nothing was sent"
            )
        return raw
    if from_env:
        return hashlib.sha256(from_env.encode("utf-8")).digest()
    path = state_dir(root) / _SECRET_FILE
    if not path.exists():
        try:
            create_file(path, secrets.token_hex(32) + "\n", personal=True)
        except OSError as exc:
            raise NewsletterError(f"{display_path(path)}: cannot create: {exc.strerror}; nothing was sent") from None
    try:
        key = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        key = b""
    if len(key) != 32:  # an empty or short key would make every token guessable
        raise NewsletterError(
            f"{display_path(path)}: not a valid secret (delete it to make a new one, "
            f"which changes every reader's unsubscribe token)"
        )
    return key


def unsubscribe_token(secret: bytes, email: str) -> str:
    """An opaque, stable token for one address: a keyed BLAKE2b MAC of the lower-cased
    address, 32 hex digits (URL-safe as it is)."""
    return hashlib.blake2b(email.strip().lower().encode("utf-8"), key=secret, digest_size=16).hexdigest()


def token_maker(secret: bytes) -> Callable[[str], str]:
    """:func:`unsubscribe_token` for many addresses: the keyed state is set up once and
    copied per address. Speed code; plain twin :func:`unsubscribe_token`, held equal by
    ``tests/test_delivery_payload.py::test_fast_token_and_link_makers_agree_with_the_plain_functions``."""
    keyed = hashlib.blake2b(key=secret, digest_size=16)

    def token(email: str) -> str:
        h = keyed.copy()
        h.update(email.strip().lower().encode("utf-8"))
        return h.hexdigest()

    return token
