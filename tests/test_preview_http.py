"""The preview server over plain HTTP: who it answers, what it refuses, what it never leaks.

Every test runs the real server (``newsletter preview --port 0``) in a copy of the
example project.
"""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_ISSUE, REPO, run_cli
from tests.feedback_kit import env
from tests.preview_kit import EXAMPLE_SLUG, EXAMPLE_TITLE, Running, raw_get, serving, start
from tests.sendgrid_server import SendGridServer

OUTSIDE_CANARY = "CANARY-OUTSIDE-THE-PROJECT-7f3a"


@pytest.fixture(scope="module")
def preview(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """One server for the read-only tests, in a copy of the example project with bait:
    secrets beside the project and links from inside it to them."""
    base = tmp_path_factory.mktemp("baited")
    project = base / "project"
    project.mkdir()
    for name in ("newsletter.yaml", "subscribers.csv"):
        shutil.copy(REPO / name, project / name)
    shutil.copytree(REPO / "issues", project / "issues")
    (base / "secret.txt").write_text(f"{OUTSIDE_CANARY}\n", encoding="utf-8")
    (base / "outside.yaml").write_text(f'title: "{OUTSIDE_CANARY}"\n', encoding="utf-8")
    (project / "issues" / "linked.yaml").symlink_to(base / "outside.yaml")
    (project / "static").symlink_to(base)
    with serving(project) as running:
        yield running


# --- Host header (DNS rebinding) -------------------------------------------------------------


ROUTES = [
    "/",
    f"/issues/{EXAMPLE_SLUG}",
    "/api/issues",
    f"/api/issues/{EXAMPLE_SLUG}",
    "/static/app.js",
    "/events",
    "/no-such-page",
]


@pytest.mark.parametrize(
    "host",
    [
        "evil.example:{port}",
        "evil.example",
        "localhost",
        "127.0.0.1",
        "127.0.0.1:1",
        "localhost.evil.example:{port}",
        "127.0.0.2:{port}",
        "0.0.0.0:{port}",
        "[::1]",
        "localhost:{port}.evil.example",
        "",
    ],
)
def test_foreign_host_header_gets_403(preview: Running, host: str) -> None:
    for target in ROUTES:
        resp = preview.get(target, host=host.format(port=preview.port))
        assert resp.status == 403, (target, host)
        assert b"Co-Production" not in resp.body and b"<html" not in resp.body
        assert b"June" not in resp.body and b"event:" not in resp.body


@pytest.mark.parametrize("host", ["localhost:{port}", "127.0.0.1:{port}", "[::1]:{port}", "LOCALHOST:{port}"])
def test_loopback_host_headers_are_served(preview: Running, host: str) -> None:
    resp = preview.get("/api/issues", host=host.format(port=preview.port))
    assert resp.status == 200
    assert EXAMPLE_TITLE in resp.text


# --- nothing outside the project, whatever the encoding ------------------------------------------


TRAVERSALS = [
    "/../secret.txt",
    "/../../etc/passwd",
    "/static/../../secret.txt",
    "/static/../newsletter.yaml",
    "/static/%2e%2e/%2e%2e/secret.txt",
    "/static/%2E%2E/newsletter.yaml",
    "/static/..%2f..%2fsecret.txt",
    "/static/..%2F..%2Fetc%2Fpasswd",
    "/static/%2e%2e%2f%2e%2e%2fsecret.txt",
    "/static/%252e%252e%252fsecret.txt",
    "/static/..%5c..%5csecret.txt",
    "/static/..\\..\\secret.txt",
    "/static/%c0%ae%c0%ae/secret.txt",
    "/static/%ff",
    "/static/secret.txt",
    "/static//etc/passwd",
    "//etc/passwd",
    "/issues/..%2f..%2fsecret.txt",
    "/issues/../newsletter.yaml",
    "/issues/%2e%2e",
    "/api/issues/..%2f..%2fsecret",
    "/api/issues/%2e%2e%2fnewsletter",
    "/api/issues/..",
    "/api/issues/%00",
    "/newsletter.yaml",
    "/subscribers.csv",
    "/issues/2024-06-june-team-update.yaml",
    "/api/issues/../../secret.txt",
    "/static/app.js/../../secret.txt",
    "/static/app.js%00.css",
    "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
]


def test_no_path_outside_the_served_routes_can_be_read(preview: Running) -> None:
    for target in TRAVERSALS:
        for request_target in (target, f"http://127.0.0.1:{preview.port}{target}"):
            resp = preview.get(request_target)
            assert resp.status in (403, 404), (request_target, resp.status)
            for leaked in (OUTSIDE_CANARY, "root:x:0:0", "postal_address", "amina.okafor", "EXAMPLE ADDRESS"):
                assert leaked not in resp.text, (request_target, leaked)


def test_a_linked_issue_outside_the_project_is_reported_not_read(preview: Running) -> None:
    index = preview.json("/api/issues")
    linked = next(i for i in index["issues"] if i["slug"] == "linked")
    assert not linked["ok"] and linked["problem_count"] == 1
    data = preview.json("/api/issues/linked")
    assert data["email"] is None
    assert "outside the project" in data["problems"][0]["message"]
    for target in ("/api/issues", "/api/issues/linked", "/issues/linked"):
        assert OUTSIDE_CANARY not in preview.get(target).text


def test_a_linked_template_outside_the_project_is_reported_not_used(project: Path) -> None:
    outside = project.parent / "evil.mjml.j2"
    outside.write_text(f"<mj-text>{OUTSIDE_CANARY}</mj-text>\n", encoding="utf-8")
    (project / "templates" / "blocks").mkdir(parents=True)
    (project / "templates" / "blocks" / "text.mjml.j2").symlink_to(outside)
    running = start(project)
    try:
        data = running.json(f"/api/issues/{EXAMPLE_SLUG}")
        assert data["email"] is None
        assert data["problems"][0]["file"] == "templates/blocks/text.mjml.j2"
        for target in ("/api/issues", f"/api/issues/{EXAMPLE_SLUG}"):
            assert OUTSIDE_CANARY not in running.get(target).text
    finally:
        running.stop()


# --- binding -------------------------------------------------------------------------------------


def _listening(port: int) -> list[str]:
    """Local addresses (hex, as in /proc/net/tcp) of sockets listening on ``port``."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            address, hex_port = cols[1].rsplit(":", 1)
            if int(hex_port, 16) == port and cols[3] == "0A":  # 0A: LISTEN
                found.append(address)
    return found


def test_binds_to_127_0_0_1_only_by_default(preview: Running) -> None:
    assert preview.url == f"http://127.0.0.1:{preview.port}/"
    assert _listening(preview.port) == ["0100007F"]  # 127.0.0.1, and no wildcard or IPv6 socket
    with socket.create_connection(("127.0.0.1", preview.port), timeout=5):
        pass
    with pytest.raises(ConnectionRefusedError):  # a wildcard socket would accept this one
        socket.create_connection(("127.0.0.2", preview.port), timeout=5).close()


def test_ipv6_loopback_when_asked(project: Path) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    try:
        probe = socket.socket(socket.AF_INET6)
        probe.bind(("::1", 0))
        probe.close()
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    running = start(project, "--host", "::1")
    try:
        assert running.url.startswith("http://[::1]:")
        reply = raw_get("::1", running.port)
        assert reply.startswith(b"HTTP/1.1 200") or reply.startswith(b"HTTP/1.0 200")
        assert EXAMPLE_TITLE.encode() in reply
    finally:
        running.stop()


# --- secrets -------------------------------------------------------------------------------------


def test_secrets_never_appear_in_any_response(project: Path, sendgrid_server: SendGridServer) -> None:
    key = "SG.canary-api-key-5d1e.abcdefghijklmnopqrstuvwxyz"
    password = "canary-smtp-password-93b2"
    sent = run_cli("send", EXAMPLE_ISSUE, "--yes", cwd=project, env=env(sendgrid_server))  # a send's state is shown
    assert sent.code == 0, sent.output
    running = start(project, env={"SENDGRID_API_KEY": key, "SMTP_URL": f"smtp://mailer:{password}@127.0.0.1:2525?starttls=1"})
    try:
        targets = [
            "/",
            f"/issues/{EXAMPLE_SLUG}",
            "/api/issues",
            f"/api/issues/{EXAMPLE_SLUG}",
            "/static/app.js",
            "/static/style.css",
            "/static/index.html",
            "/nope",
            "/static/../x",
        ]
        readers = [r["key"] for r in running.json(f"/api/issues/{EXAMPLE_SLUG}")["readers"]]
        targets += [f"/api/issues/{EXAMPLE_SLUG}?as={r}" for r in readers]
        bodies = [running.get(t) for t in targets] + [running.get("/", host="evil.example")]
        with socket.create_connection(("127.0.0.1", running.port), timeout=5) as conn:
            conn.sendall(f"GET /events HTTP/1.1\r\nHost: 127.0.0.1:{running.port}\r\n\r\n".encode())
            first_event = b""
            while b"event: version\ndata: " not in first_event:
                first_event += conn.recv(65536)
        seen = b"".join(b.body + repr(b.headers).encode() for b in bodies) + first_event
        seen += "".join(running.stdout + running.stderr).encode()
        assert len(bodies) > 10
        assert b'"state":"sent"' in seen  # the send's state was read (from the journal, not the environment)
        for secret in (key, password, "canary-api-key", "canary-smtp"):
            assert secret.encode() not in seen
    finally:
        running.stop()


# --- what the server answers ------------------------------------------------------------------


def test_pages_and_api(preview: Running) -> None:
    page = preview.get("/")
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert preview.get(f"/issues/{EXAMPLE_SLUG}").status == 200
    assert preview.get("/issues/no-such-issue").status == 404
    assert preview.get("/api/issues/no-such-issue").status == 404
    index = preview.json("/api/issues")
    assert [i["slug"] for i in index["issues"]] == [EXAMPLE_SLUG, "linked"]  # newest first
    issue = preview.json(f"/api/issues/{EXAMPLE_SLUG}")
    email = issue["email"]
    assert issue["title"] == EXAMPLE_TITLE and issue["reader"] == "sample"
    assert "Dear Sam," in email["html"] and "Dear Sam," in email["text"]
    assert "__nl_" not in email["html"] + email["text"]
    assert email["size_bytes"] == len(email["html"].encode()) and email["clip_bytes"] == 102 * 1024
    headers = dict(email["headers"])
    assert headers["From"] == "Co-Production Collective <news@example.org>"
    assert headers["Reply-To"] == "Co-Production Collective team <hello@example.org>"
    assert headers["Subject"] == EXAMPLE_TITLE
    assert headers["Preheader"].startswith("Trust, anti-racism")
    assert headers["List-Unsubscribe"] == ("<https://www.coproductioncollective.co.uk/unsubscribe?token=preview-token>")
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert preview.get("/", method="HEAD").body == b""
    assert preview.get("/", method="POST").status in (405, 501)


def test_view_as_lists_eligible_subscribers_and_personalises(preview: Running) -> None:
    issue = preview.json(f"/api/issues/{EXAMPLE_SLUG}")
    labels = {r["key"]: r["label"] for r in issue["readers"]}
    assert labels["sample"].startswith("Sample reader")
    assert labels["line-2"] == "Amina Okafor <amina.okafor@example.org>"
    assert labels["line-4"] == "Chloé Martin <chloe.martin@example.org>"
    assert not any("dev.patel" in v or "george.osei" in v for v in labels.values())  # unsubscribed, bounced
    chloe = preview.json(f"/api/issues/{EXAMPLE_SLUG}?as=line-4")
    assert chloe["reader"] == "line-4"
    assert "Dear Chloé," in chloe["email"]["html"] and "Dear Chloé," in chloe["email"]["text"]
    assert dict(chloe["email"]["headers"])["To"] == "Chloé Martin <chloe.martin@example.org>"
    farah = preview.json(f"/api/issues/{EXAMPLE_SLUG}?as=line-7")
    assert (
        ">Hello,</p>" in farah["email"]["html"] and "friend" not in farah["email"]["html"]
    )  # no first name: greeting_without_name
    unknown = preview.json(f"/api/issues/{EXAMPLE_SLUG}?as=line-999")
    assert unknown["reader"] == "sample"


def test_view_as_escapes_subscriber_fields(project: Path) -> None:
    with (project / "subscribers.csv").open("a", encoding="utf-8") as fh:
        fh.write('mallory@example.org,"<script>alert(1)</script>",X,subscribed,community,2024-01-01,web\n')
    running = start(project)
    try:
        data = running.json(f"/api/issues/{EXAMPLE_SLUG}?as=line-9")
        assert "Dear &lt;script&gt;alert(1)&lt;/script&gt;," in data["email"]["html"]
        assert "<script>" not in data["email"]["html"]
    finally:
        running.stop()


def test_index_gives_each_issue_its_title_subject_date_and_figures(project: Path) -> None:
    issue = project / "issues" / f"{EXAMPLE_SLUG}.yaml"
    issue.write_text(
        issue.read_text(encoding="utf-8").replace(
            f'subject: "{EXAMPLE_TITLE}"', 'subject: "Small conversations, big ideas: our June update"'
        ),
        encoding="utf-8",
    )
    running = start(project)
    try:
        (entry,) = running.json("/api/issues")["issues"]
    finally:
        running.stop()
    assert entry["title"] == EXAMPLE_TITLE
    assert entry["subject"] == "Small conversations, big ideas: our June update"
    assert entry["date"] == "2024-06-14" and entry["ok"] and entry["problem_count"] == 0
    assert entry["size_bytes"] > 10_000 and entry["check_errors"] == 0
