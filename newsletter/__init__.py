"""newsletter: write a monthly email update as YAML, preview, check and send it safely.

Entry point: :func:`newsletter.cli.main` (the ``newsletter`` command), which calls one
function in :mod:`newsletter.commands` per command. An issue travels issue → render →
audience → delivery → feedback / web; docs/architecture.md maps the packages.
"""

__version__ = "0.1.0"
