"""Where SendGrid is and how we talk to it: the key and host from the environment, checked
before anything is sent, and the official client for SendGrid's API calls other than
mail send (suppressions, batches, statistics), made so that it never follows a redirect.

The key comes only from ``SENDGRID_API_KEY``; it is handed to the client and never
printed or logged.
"""

from __future__ import annotations

import ipaddress
import os
import urllib.request
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from newsletter.delivery.posting import HOST_ENV, ApiHost

__all__ = ["HOST_ENV", "KEY_ENV", "ApiHost", "api_host", "api_key", "client", "is_loopback", "parse_api_host"]
from newsletter.errors import UsageError

if TYPE_CHECKING:
    from sendgrid import SendGridAPIClient

KEY_ENV = "SENDGRID_API_KEY"
DEFAULT_HOST = "https://api.sendgrid.com"


def api_key() -> str:
    return os.environ.get(KEY_ENV, "").strip()


def parse_api_host(text: str) -> ApiHost:
    """``SENDGRID_API_HOST`` as an :class:`ApiHost`, or a :class:`UsageError` saying what is
    wrong with it. ``http://`` is accepted only for a loopback address (a local test
    server): the key is never sent in the clear over a network."""
    value = text.strip().rstrip("/") or DEFAULT_HOST
    example = "e.g. https://api.eu.sendgrid.com"
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise UsageError(f"{HOST_ENV} is not a valid URL ({example}); nothing was sent") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{HOST_ENV} must start with https:// ({example}); nothing was sent")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        raise UsageError(f"{HOST_ENV} must be only the scheme and host ({example}); nothing was sent")
    host = parts.hostname
    if parts.scheme == "http" and not is_loopback(host):
        raise UsageError(f"{HOST_ENV} uses http:// for a host that is not this machine: the API key would "
                         "cross the network unencrypted; use https:// (nothing was sent)")
    return ApiHost(parts.scheme, host, port or (443 if parts.scheme == "https" else 80))


def api_host() -> ApiHost:
    """The API host of ``SENDGRID_API_HOST`` (default: SendGrid's public API)."""
    return parse_api_host(os.environ.get(HOST_ENV, ""))


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A 3xx answer stays an error: following it would carry the key to another host."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def client(key: str, host: ApiHost) -> SendGridAPIClient:
    """The official client for ``host``, whose HTTP layer never follows a redirect (a 3xx
    is raised as the client's ``HTTPError``, like any other answer that is not 2xx)."""
    import python_http_client
    from sendgrid import SendGridAPIClient

    class SafeClient(python_http_client.Client):  # type: ignore[misc]
        def _build_client(self, name: str | None = None) -> SafeClient:
            url_path = self._url_path + [name] if name else self._url_path
            return SafeClient(host=self.host, version=self._version, request_headers=self.request_headers,
                              url_path=url_path, append_slash=self.append_slash, timeout=self.timeout)

        def _make_request(self, opener: Any, request: Any, timeout: float | None = None) -> Any:
            return super()._make_request(urllib.request.build_opener(_NoRedirects), request, timeout)

    sg = SendGridAPIClient(key, host=host.url)
    sg.client = SafeClient(host=host.url, request_headers=sg._default_headers, version=3)
    return sg


