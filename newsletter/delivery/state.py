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

STATE_DIR = ".newsletter"
SECRET_ENV = "NEWSLETTER_SECRET"
_SECRET_FILE = "secret"


def state_dir(root: Path) -> Path:
    """``<root>/.newsletter``, created (with its own ``.gitignore``) when missing."""
    folder = root / STATE_DIR
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        ignore = folder / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# newsletter's private state: never commit it\n*\n", encoding="utf-8")
    except OSError as exc:
        raise NewsletterError(f"{display_path(folder)}: cannot create: {exc.strerror}") from None
    return folder


def load_secret(root: Path) -> bytes:
    """The key for unsubscribe tokens: ``NEWSLETTER_SECRET``, else ``.newsletter/secret``.

    The file is made once with 32 random bytes and mode 0600, and reused so that
    a reader's token stays the same from issue to issue.
    """
    from_env = os.environ.get(SECRET_ENV, "")
    if from_env:
        return hashlib.sha256(from_env.encode("utf-8")).digest()
    path = state_dir(root) / _SECRET_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    except OSError as exc:
        raise NewsletterError(f"{display_path(path)}: cannot create: {exc.strerror}") from None
    else:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_hex(32) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
    try:
        text = path.read_text(encoding="ascii").strip()
        return bytes.fromhex(text)
    except (OSError, ValueError):
        raise NewsletterError(
            f"{display_path(path)}: not a valid secret (delete it to make a new one, "
            f"which changes every reader's unsubscribe token)"
        ) from None


def unsubscribe_token(secret: bytes, email: str) -> str:
    """An opaque, stable token for one address: a keyed BLAKE2b MAC of the lower-cased
    address, 32 hex digits (URL-safe as it is)."""
    return hashlib.blake2b(email.strip().lower().encode("utf-8"), key=secret, digest_size=16).hexdigest()


def token_maker(secret: bytes) -> Callable[[str], str]:
    """:func:`unsubscribe_token` for many addresses: the keyed state is set up once and
    copied per address (about twice as fast for a million)."""
    keyed = hashlib.blake2b(key=secret, digest_size=16)

    def token(email: str) -> str:
        h = keyed.copy()
        h.update(email.strip().lower().encode("utf-8"))
        return h.hexdigest()

    return token
