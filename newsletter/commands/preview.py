"""``newsletter preview``: serve the project in the current folder, rebuilding on every save."""

from __future__ import annotations

import errno
import webbrowser
from pathlib import Path

import click

from newsletter.errors import UsageError, display_path
from newsletter.preview.server import LOOPBACK_NAMES, PreviewServer
from newsletter.preview.site import Site
from newsletter.preview.watch import Watcher
from newsletter.settings import find_project_root

WATCH_READY_SECONDS = 10.0


def _listen(site: Site, host: str, port: int) -> PreviewServer:
    try:
        return PreviewServer(site, host, port)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(f"port {port} is already in use on {host}; choose another with --port") from None
        raise UsageError(f"cannot listen on {host} port {port}: {exc.strerror or exc}") from None


def _open(url: str) -> None:
    """Open ``url`` in the web browser, or say plainly that none could be opened."""
    try:
        opened = webbrowser.open(url)
    except webbrowser.Error:
        opened = False
    if not opened:
        click.echo(f"No web browser could be opened here: open {url} in yours", err=True)


def preview(host: str, port: int, open_browser: bool) -> None:
    """Build every issue, then serve them until interrupted, rebuilding after each save."""
    root = find_project_root(Path.cwd())
    site = Site(root)
    server = _listen(site, host, port)
    watcher = Watcher(site)
    try:
        snapshot = site.rebuild()
        watcher.start()
        watcher.ready.wait(WATCH_READY_SECONDS)
        broken = sum(not b.ok for b in snapshot.issues)
        click.echo(
            f"{snapshot.name}: {len(snapshot.issues)} issue(s) in {display_path(site.issues_dir)}"
            + (f", {broken} with problems" if broken else "")
        )
        if host.lower() not in ("localhost", "127.0.0.1", "::1", *LOOPBACK_NAMES):
            click.echo(f"warning: listening on {host}: other machines may reach this preview", err=True)
        click.echo(f"Serving the preview at {server.url}  (Ctrl+C to stop)")
        if open_browser:
            _open(server.url)
        server.serve_forever(poll_interval=0.25)
    except KeyboardInterrupt:
        click.echo("Stopped.")
    finally:
        watcher.stop()
        site.close()
        server.server_close()
