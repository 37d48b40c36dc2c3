"""Rules the source itself keeps, read from its syntax tree (comments and docstrings do not count).

- Every file is written through ``newsletter/files.py`` (whole or not at all, synced, with
  its mode); a write primitive anywhere else fails here unless the allow-list below says why.
- The send journal's SQL lives in the journal modules only (``delivery/journal.py`` writes,
  ``delivery/journal_read.py`` reads, ``delivery/journal_schema.py`` its tables); nothing else
  opens the database or runs a statement.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "newsletter"

FILES_MODULE = "files.py"
JOURNAL_MODULES = ("delivery/journal.py", "delivery/journal_read.py", "delivery/journal_schema.py")

WRITE_ALLOWED: dict[tuple[str, str], str] = {
    ("delivery/journal.py", "sqlite3.connect"): "the journal's database: SQLite writes and syncs its own file",
    ("delivery/journal_read.py", "sqlite3.connect"): "the journal opened read-only (mode=ro), never written",
    ("delivery/poster.py", "os.open"): "the poster lock file, held with flock, never written (files.lock_file does"
    " the same; the poster's own open predates it)",
    ("commands/terminal.py", "os.open"): "/dev/null, put in place of a standard stream whose reader went away",
    ("audience/halves.py", "tempfile.TemporaryFile"): "an anonymous scratch file: no name, gone when closed",
    ("gitrepo.py", "extractall"): "a git tree unpacked into a throwaway temporary folder its caller made",
}

_OS_WRITES = {"replace", "rename", "renames", "write", "pwrite", "writev", "link", "symlink", "truncate", "ftruncate", "mkfifo"}
_OS_OPEN_WRITE_FLAGS = {"O_WRONLY", "O_RDWR", "O_CREAT", "O_APPEND", "O_TRUNC"}
_TEMPFILES = {"NamedTemporaryFile", "TemporaryFile", "SpooledTemporaryFile", "mkstemp"}
_SHUTIL_WRITES = {"copy", "copy2", "copyfile", "copytree", "copyfileobj", "move"}
_METHOD_WRITES = {"write_text", "write_bytes", "touch", "extractall"}


def _modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path.relative_to(PACKAGE).as_posix(), ast.parse(path.read_text(encoding="utf-8"), str(path))


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _mode(call: ast.Call, position: int) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg == "mode":
            return kw.value
    return call.args[position] if len(call.args) > position else None


def _writes_mode(mode: ast.expr | None) -> bool:
    if mode is None:
        return False
    if isinstance(mode, ast.Constant) and isinstance(mode.value, str):
        return bool(set(mode.value) & set("wax+"))
    return True  # a mode worked out at run time may write


def write_primitive(call: ast.Call) -> str | None:
    """The name of the write primitive ``call`` is, or None."""
    name = _dotted(call.func)
    head, _, last = name.rpartition(".")
    if head == "os" and last in _OS_WRITES:
        return name
    if name == "os.open":
        flags = {
            n.attr if isinstance(n, ast.Attribute) else getattr(n, "id", "") for arg in call.args[1:2] for n in ast.walk(arg)
        }
        return name if flags & _OS_OPEN_WRITE_FLAGS else None
    if name in ("open", "io.open", "os.fdopen") and _writes_mode(_mode(call, 1)):
        return name
    if last == "open" and head not in ("", "io", "os", "webbrowser", "tarfile"):
        mode = _mode(call, 0)  # pathlib's open takes the mode first (other classes' open, a root)
        if isinstance(mode, ast.Constant) and _writes_mode(mode):
            return "Path.open"
    if last in _TEMPFILES:
        return f"tempfile.{last}"
    if head == "shutil" and last in _SHUTIL_WRITES:
        return name
    if isinstance(call.func, ast.Attribute) and last in _METHOD_WRITES:
        return last
    if name == "sqlite3.connect":
        return name
    return None


def test_every_file_write_goes_through_files_py() -> None:
    found = []
    used = set()
    for module, tree in _modules():
        if module == FILES_MODULE:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and (primitive := write_primitive(node)):
                if (module, primitive) in WRITE_ALLOWED:
                    used.add((module, primitive))
                else:
                    found.append(f"newsletter/{module}:{node.lineno}: {primitive}")
    assert found == [], "write files through newsletter/files.py (or allow-list it here, with why):\n" + "\n".join(found)
    assert used == set(WRITE_ALLOWED), f"allowed but no longer used (remove them): {set(WRITE_ALLOWED) - used}"


def test_the_write_scan_sees_each_kind_of_write() -> None:
    """The scan itself: each way of writing a file is caught, reading is not."""
    writes = [
        "os.replace(a, b)",
        "os.open(p, os.O_WRONLY | os.O_CREAT)",
        'open(p, "w")',
        'open(p, mode="ab")',
        'os.fdopen(fd, "w")',
        'path.open("w", encoding="utf-8")',
        'path.write_text("x")',
        'p.write_bytes(b"")',
        "tempfile.NamedTemporaryFile()",
        "tempfile.mkstemp()",
        "shutil.copyfile(a, b)",
        "os.rename(a, b)",
        "open(p, m)",
        "sqlite3.connect(p)",
    ]
    reads = [
        "open(p)",
        'open(p, "rb")',
        'path.open("rb")',
        "os.open(p, os.O_RDONLY)",
        "path.read_text()",
        'text.replace("a", "b")',
        "webbrowser.open(url)",
    ]
    for source in writes:
        call = ast.parse(source).body[0].value  # type: ignore[attr-defined]
        assert write_primitive(call), source
    for source in reads:
        call = ast.parse(source).body[0].value  # type: ignore[attr-defined]
        assert write_primitive(call) is None, source


_SQL = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|PRAGMA)\s")
_SQL_CALLS = {"execute", "executemany", "executescript"}


def sql_in(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """(line, what) of every SQL statement, database call or connection in a module."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and _SQL.match(node.value):
            yield node.lineno, f"SQL {node.value.split()[0]}"
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _SQL_CALLS:
            yield node.lineno, f".{node.func.attr}()"
        elif isinstance(node, ast.Call) and _dotted(node.func) == "sqlite3.connect":
            yield node.lineno, "sqlite3.connect"


def test_no_sql_outside_the_journal() -> None:
    found = [
        f"newsletter/{module}:{line}: {what}"
        for module, tree in _modules()
        if module not in JOURNAL_MODULES
        for line, what in sql_in(tree)
    ]
    assert found == [], "read the journal through newsletter/delivery/journal_read.py:\n" + "\n".join(found)


def test_the_sql_scan_sees_statements_and_calls() -> None:
    planted = ast.parse(
        'Q = "SELECT slug FROM sends"\ndb.execute(Q)\nsqlite3.connect(p)\ndoc = """Select the sends that were finished."""\n'
    )
    assert [what for _, what in sorted(sql_in(planted))] == ["SQL SELECT", ".execute()", "sqlite3.connect"]
