"""Compile the theme's templates once, at install (``make setup``), as ``compileall`` does
the Python: ``python -m newsletter.render.precompile``.

Each is compiled in the environment that renders it (``*.txt.j2`` in the plain-text one,
the rest in the HTML one) into ``newsletter/templates/__pycache__/<fingerprint>/``, which
every environment reads after the project's own cache (:func:`newsletter.render.env.fingerprint`
names the folder, so code compiled for other options is never used). A template edited
since is compiled again, as Jinja compares each one's source with what was compiled.
Without this step nothing breaks: a project's first build compiles the templates itself.
"""

from __future__ import annotations

import sys

from newsletter.render import env as envs


def precompile() -> int:
    """Compile every built-in template; how many."""
    made = 0
    for html in (True, False):
        env = envs.theme_compiler(html=html)
        for path in sorted(envs.BUILTIN_TEMPLATES.rglob("*.j2")):
            name = path.relative_to(envs.BUILTIN_TEMPLATES).as_posix()
            if name.endswith(".txt.j2") != html:
                env.get_template(name)
                made += 1
    return made


if __name__ == "__main__":
    print(f"{precompile()} templates compiled", file=sys.stderr)
