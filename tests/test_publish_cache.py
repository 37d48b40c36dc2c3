"""The publish cache (``.newsletter/cache/web``): what it keeps, that it only saves work, and
that a damaged one costs only speed.

Every publish runs the real command (a subprocess) on a copy of the example project
with a second issue.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.test_publish import WINTER, WINTER_SLUG
from tests.test_publish_revisions import AUGUST, SECOND, edit, publish

CACHE = Path(".newsletter") / "cache" / "web"


def site_bytes(site: Path) -> dict[str, bytes]:
    return {str(p.relative_to(site)): p.read_bytes() for p in site.rglob("*") if p.is_file()}


def pack(project: Path, kind: str) -> tuple[Path, dict[str, Any]]:
    """The cache file of one kind (``issues``, ``events``) and what it holds."""
    (path,) = (project / CACHE).glob(f"{kind}-*.json")
    return path, json.loads(path.read_bytes())


def test_the_cache_holds_what_the_site_is_made_of_in_three_files(project: Path) -> None:
    (project / "issues" / f"{WINTER_SLUG}.yaml").write_text(WINTER, encoding="utf-8")
    assert publish(project, at=SECOND).code == 0
    names = sorted(p.name.split("-")[0] for p in (project / CACHE).iterdir())
    assert names == ["events", "issues", "site"]  # not a file per issue or per event
    _, issues = pack(project, "issues")
    _, events = pack(project, "events")
    assert len(issues) == 2 and len(events) == len(list((project / "site" / "events").iterdir()))
    # three edits of one issue later it still holds one render per issue, not one per version
    winter = project / "issues" / f"{WINTER_SLUG}.yaml"
    for n in range(3):
        edit(winter, ("for the autumn's news", f"for the autumn's news ({n})"))
        assert publish(project, at=SECOND).code == 0
        edit(winter, (f"for the autumn's news ({n})", "for the autumn's news"))
    _, issues = pack(project, "issues")
    assert len(issues) == 2


def test_a_damaged_or_missing_cache_gives_the_same_site(project: Path, tmp_path: Path) -> None:
    assert publish(project, at=SECOND).code == 0
    made = site_bytes(project / "site")
    for path in (project / CACHE).iterdir():
        path.write_bytes(b'{"not": "what was kept"')  # torn, as a crash could leave it
    edit(project / "issues" / "2024-06-june-team-update.yaml", ("a busy month", "a very busy month"))
    again = publish(project, at=SECOND)
    assert again.code == 0, again.output
    cold = tmp_path / "cold"
    assert publish(project, "-o", str(cold), at=SECOND).code == 0  # another folder: its own cache
    assert site_bytes(project / "site") == site_bytes(cold) != made
    for path in (project / CACHE).iterdir():  # valid JSON of the wrong shape, under the right keys
        kept = json.loads(path.read_bytes())
        if path.name.startswith("site-"):
            kept = {"key": kept["key"], "until": "tomorrow", "files": [1], "result": None}
        else:
            kept = {key: {"date": "June", "issue": {"slug": 1}} if path.name.startswith("issues-") else 7 for key in kept}
        path.write_text(json.dumps(kept), encoding="utf-8")
    again = publish(project, at=SECOND)
    assert again.code == 0 and "Traceback" not in again.output
    for path in (project / CACHE).iterdir():
        path.write_bytes(b"[1, 2, 3]")
    edit(project / "issues" / "2024-06-june-team-update.yaml", ("a very busy month", "a busy month"))
    assert publish(project, at=SECOND).code == 0
    assert publish(project, "-o", str(tmp_path / "cold2"), at=SECOND).code == 0
    assert site_bytes(project / "site") == site_bytes(tmp_path / "cold2")
    assert {k: v for k, v in site_bytes(project / "site").items() if k != "feed.xml"} == {
        k: v for k, v in made.items() if k != "feed.xml"
    }  # the feed says when the page last changed


def test_a_calendar_entry_is_written_again_only_when_its_revision_changes(project: Path) -> None:
    """The cache is keyed by all an entry is made of: an unchanged event is taken from it as
    it is (shown by marking the kept text), a changed one is written afresh."""
    issue = project / "issues" / "2024-06-june-team-update.yaml"
    assert publish(project, at=SECOND).code == 0
    path, events = pack(project, "events")
    marked = {key: text.replace("SUMMARY:", "X-KEPT:yes\r\nSUMMARY:") for key, text in events.items()}
    path.write_text(json.dumps(marked), encoding="utf-8")
    edit(issue, ("a busy month", "a very busy month"))  # the text, not the events
    assert publish(project, at=SECOND).code == 0
    august = project / "site" / "events" / f"{AUGUST}.ics"
    assert b"X-KEPT:yes" in august.read_bytes()
    edit(issue, ("start: 2024-08-06 15:00", "start: 2024-08-06 16:00"))  # August's time: a new revision
    assert publish(project, at=SECOND).code == 0
    assert b"X-KEPT:yes" not in august.read_bytes() and b"SEQUENCE:1" in august.read_bytes()
    assert b"X-KEPT:yes" in (project / "site" / "events" / "2024-07-01-co-pro-cuppa.ics").read_bytes()
