"""Online rules (``check --online``): request every link and image of the email.

Each distinct http(s) address is requested once with GET (the body is not read),
concurrently on a small thread pool with at most two requests per host at a time,
a timeout (``check.timeout`` in newsletter.yaml) and a user agent that says who is
asking. Redirects are followed by hand, up to ten, to see where they lead.
Per-recipient links (the unsubscribe link) are never requested: a request could act on them.
An issue in several languages has every language's links requested, each address once.
The issue's own web page and calendar files (``web_archive_url``) are requested like any
link: once ``newsletter publish`` has been uploaded they answer 200.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests

from newsletter import __version__
from newsletter.checks.context import CheckContext
from newsletter.checks.finding import Finding, Where
from newsletter.checks.registry import check, rule
from newsletter.sitenames import base_url

FAMILY = "online"
WORKERS = 8
PER_HOST = 2
MAX_REDIRECTS = 10
REFUSED_BOTS = frozenset({401, 403, 429})  # often a site refusing robots, not a broken page

ONLINE_STATUS = rule("online-status", "error", "A link or image answers with an error (4xx or 5xx).", family=FAMILY)
ONLINE_REFUSED = rule(
    "online-refused",
    "warning",
    "A site refused the check (401, 403 or 429): open the link in a browser.",
    family=FAMILY,
)
ONLINE_REDIRECT = rule("online-redirect", "warning", "A link or image redirects to another host.", family=FAMILY)
ONLINE_UNREACHABLE = rule(
    "online-unreachable",
    "warning",
    "A link or image could not be reached (timeout, DNS, TLS).",
    family=FAMILY,
)


@dataclass(frozen=True, slots=True)
class Outcome:
    url: str
    status: int | None = None
    final_url: str = ""
    error: str = ""


def user_agent(contact: str) -> str:
    return f"newsletter-check/{__version__} (pre-send link check; contact {contact})"


def _same_site(a: str, b: str) -> bool:
    def host(url: str) -> str:
        name = (urlsplit(url).hostname or "").lower()
        return name.removeprefix("www.")

    return host(a) == host(b)


class Checker:
    def __init__(self, timeout: float, agent: str) -> None:
        self.timeout = timeout
        self.agent = agent
        self._local = threading.local()
        self._hosts: dict[str, threading.Semaphore] = {}
        self._lock = threading.Lock()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers.update({"User-Agent": self.agent, "Accept": "*/*"})
            self._local.session = session
        return session

    def _slot(self, url: str) -> threading.Semaphore:
        host = (urlsplit(url).hostname or "").lower()
        with self._lock:
            return self._hosts.setdefault(host, threading.Semaphore(PER_HOST))

    def fetch(self, url: str) -> Outcome:
        current = url
        try:
            for _ in range(MAX_REDIRECTS + 1):
                with self._slot(current):
                    response = self._session().get(current, stream=True, allow_redirects=False, timeout=self.timeout)
                    response.close()
                location = response.headers.get("Location")
                if response.is_redirect and location:
                    current = urljoin(current, location)
                    continue
                return Outcome(url, response.status_code, current)
            return Outcome(url, None, current, f"more than {MAX_REDIRECTS} redirects")
        except requests.Timeout:
            return Outcome(url, None, current, f"no answer within {self.timeout:g} s")
        except requests.RequestException as exc:
            return Outcome(url, None, current, _reason(exc))

    def fetch_all(self, urls: list[str]) -> dict[str, Outcome]:
        if not urls:
            return {}
        with ThreadPoolExecutor(max_workers=min(WORKERS, len(urls))) as pool:
            return dict(zip(urls, pool.map(self.fetch, urls)))


def _reason(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS certificate problem"
    if isinstance(exc, requests.ConnectionError):
        return "could not connect (no such host, or the connection was refused)"
    return type(exc).__name__


def _targets(ctx: CheckContext) -> list[tuple[str, str, Where]]:
    """(kind, url, where) for every http(s) link and image, once each, in document order."""
    seen: set[str] = set()
    out: list[tuple[str, str, Where]] = []
    items = [("link", link.href.strip(), link.where, link.token_field) for link in ctx.links]
    items += [("image", image.src.strip(), image.where, None) for image in ctx.images]
    for kind, url, where, token_field in items:
        if token_field is not None or url in seen:
            continue
        if urlsplit(url).scheme.lower() not in ("http", "https"):
            continue
        seen.add(url)
        out.append((kind, url, where))
    return out


@check(FAMILY)
def online(ctx: CheckContext) -> Iterator[Finding]:
    yield from _requested(ctx, _targets(ctx))


def other_languages(default: CheckContext, others: Sequence[CheckContext]) -> Iterator[Finding]:
    """For an issue in several languages: the links and images of the other languages'
    emails that the default language's lacks (a link to a Welsh page), each requested once
    and reported at its own line."""
    seen = {url for _, url, _ in _targets(default)}
    targets: list[tuple[str, str, Where]] = []
    for ctx in others:
        for kind, url, where in _targets(ctx):
            if url not in seen:
                seen.add(url)
                targets.append((kind, url, where))
    yield from _requested(default, targets)


def _requested(ctx: CheckContext, targets: list[tuple[str, str, Where]]) -> Iterator[Finding]:
    """Request each target and judge its answer."""
    checker = Checker(ctx.settings.check.timeout, user_agent(ctx.settings.contact_email))
    outcomes = checker.fetch_all([url for _, url, _ in targets])
    archive = base_url(ctx.settings.web_archive_url)
    for kind, url, where in targets:
        got = outcomes[url]
        if got.error:
            yield ONLINE_UNREACHABLE(
                f"the {kind} {url} could not be reached: {got.error}",
                where,
                "check the address; if the site is down, try again later",
            )
            continue
        status = got.status or 0
        if status in REFUSED_BOTS:
            yield ONLINE_REFUSED(
                f"the {kind} {url} answered {status} to the check",
                where,
                "the site may refuse robots: open it in a browser to be sure",
            )
        elif status >= 400:
            yield ONLINE_STATUS(
                f"the {kind} {url} answered {status}",
                where,
                "publish the web edition (`newsletter publish`) and upload site/ there"
                if url.startswith(archive)
                else "fix the address: readers would get an error page"
                if kind == "link"
                else "fix the address: readers would see a broken image",
            )
        if not _same_site(url, got.final_url):
            yield ONLINE_REDIRECT(
                f"the {kind} {url} redirects to another host: {got.final_url}",
                where,
                "link to the final address (shorteners and moved pages break, and readers cannot see where they are going)",
            )


SENDGRID_GROUP = rule("sendgrid-group", "error", "SendGrid does not know the configured unsubscribe group.", family=FAMILY)


@check(FAMILY)
def sendgrid_group(ctx: CheckContext) -> Iterator[Finding]:
    """With ``unsubscribe: sendgrid``, ask SendGrid whether the group exists."""
    group_id = ctx.settings.delivery.sendgrid.asm_group_id
    if ctx.settings.unsubscribe != "sendgrid" or group_id is None:
        return
    from newsletter.delivery.api import api_key
    from newsletter.feedback.account import SendGridError
    from newsletter.feedback.suppressions import group_exists

    where = ctx.settings_at(("delivery", "sendgrid", "asm_group_id"))
    if not api_key():
        yield SENDGRID_GROUP(
            f"unsubscribe group {group_id} could not be confirmed: SENDGRID_API_KEY is not set",
            where,
            "set the key in the environment and run check --online again",
        )
        return
    try:
        from newsletter.feedback.account import client

        group_exists(client(ctx.settings.delivery.sendgrid.timeout), group_id)
    except SendGridError as exc:
        yield SENDGRID_GROUP(
            f"unsubscribe group {group_id}: {exc.message}",
            where,
            "use the id SendGrid shows under Suppressions > Unsubscribe Groups",
        )


DOMAIN_REFUSED = rule(
    "domain-refused",
    "error",
    "Mailbox providers would reject mail from the From address (see newsletter doctor).",
    family=FAMILY,
)
DOMAIN_AUTH = rule(
    "domain-auth",
    "warning",
    "The sending domain lacks SPF, DKIM or DMARC, or could not be checked (see newsletter doctor).",
    family=FAMILY,
)


@check(FAMILY)
def sending_domain(ctx: CheckContext) -> Iterator[Finding]:
    """The doctor's findings (newsletter/deliverability/doctor.py) for the provider a send would use."""
    import os

    from newsletter.deliverability.doctor import cached, inputs_for
    from newsletter.delivery.api import api_key

    provider = "smtp" if not api_key() and os.environ.get("SMTP_URL", "").strip() else "sendgrid"
    diagnosis = cached(ctx.project.root, inputs_for(ctx.settings, provider))
    where = ctx.settings_at(("from", "email"))
    for f in diagnosis.findings:
        if f.level in ("error", "warning", "unknown"):
            fix = ("add these DNS records: " + "; ".join(f.records)) if f.records else "run newsletter doctor for the fix"
            made = DOMAIN_REFUSED if f.level == "error" else DOMAIN_AUTH
            yield made(f"sending domain {f.domain}: {f.topic}: {f.message}", where, fix)
