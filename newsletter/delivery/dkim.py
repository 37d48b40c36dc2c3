"""DKIM signatures for mail sent over SMTP (dkimpy), with a key from the environment.

``NEWSLETTER_DKIM_KEY`` holds the private key (PEM) and ``NEWSLETTER_DKIM_SELECTOR`` the
selector whose ``<selector>._domainkey.<From domain>`` TXT record publishes the public
key (``newsletter doctor`` checks it). Each message is signed for the From domain, so
DMARC aligns; the signature covers ``List-Unsubscribe`` and ``List-Unsubscribe-Post``,
as RFC 8058 asks, so the one-click headers cannot be changed on the way. SendGrid signs
its own messages (domain authentication); this is for the SMTP path only.
"""

from __future__ import annotations

import os

from newsletter.errors import UsageError

KEY_ENV = "NEWSLETTER_DKIM_KEY"
SELECTOR_ENV = "NEWSLETTER_DKIM_SELECTOR"
SIGNED_HEADERS = (
    b"from",
    b"reply-to",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"mime-version",
    b"content-type",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
)


class Signer:
    """Signs whole messages (CRLF line ends) for one domain and selector."""

    def __init__(self, key: bytes, selector: str, domain: str) -> None:
        self.key, self.selector, self.domain = key, selector.encode("ascii"), domain.encode("ascii")

    def sign(self, data: bytes) -> bytes:
        import dkim

        signature: bytes = dkim.sign(
            data,
            self.selector,
            self.domain,
            self.key,
            include_headers=list(SIGNED_HEADERS),
            canonicalize=(b"relaxed", b"relaxed"),
            linesep=b"\r\n",
        )
        return signature + data


def signer_from_env(from_email: str) -> Signer | None:
    """The signer the environment sets up for ``from_email``'s domain, or None (no key).
    A key without a selector, a selector without a key, or a key that is not one is a
    usage error (the key is never printed)."""
    key = os.environ.get(KEY_ENV, "").strip()
    selector = os.environ.get(SELECTOR_ENV, "").strip()
    if not key and not selector:
        return None
    if not key or not selector:
        missing = KEY_ENV if not key else SELECTOR_ENV
        raise UsageError(f"DKIM signing needs both {KEY_ENV} and {SELECTOR_ENV}; {missing} is not set")
    if not selector.replace("-", "").replace("_", "").replace(".", "").isalnum() or not selector.isascii():
        raise UsageError(f"{SELECTOR_ENV}={selector!r} is not a DKIM selector (letters, digits, - and .)")
    domain = from_email.rpartition("@")[2]
    try:
        import idna

        domain = idna.encode(domain, uts46=True).decode("ascii")
    except Exception:  # noqa: BLE001 - the From address was validated; keep it as it is
        pass
    signer = Signer(key.encode("ascii", "replace").replace(b"\\n", b"\n"), selector, domain)
    try:
        signer.sign(b"From: x@" + signer.domain + b"\r\nSubject: key check\r\n\r\nx\r\n")
    except Exception:  # noqa: BLE001 - dkimpy raises several kinds for a bad key; none may show it
        raise UsageError(f"{KEY_ENV} is not an RSA or Ed25519 private key in PEM form") from None
    return signer
