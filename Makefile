# One entry point for every job. `make run` and `make test` are the README's two commands.
PYTHON ?= python3
ISSUE ?= issues/2024-06-june-team-update.yaml

.PHONY: setup run test browser golden bench

setup:
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -e '.[test]'

# The main job: build the worked example (the send command lands with issue 5).
run: setup
	$(PYTHON) -m newsletter build $(ISSUE)

# Debian's Chromium for the preview's browser tests (Playwright cannot download browsers here).
browser:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

test: setup browser
	$(PYTHON) -m pytest

golden: setup
	$(PYTHON) -m tests.golden

bench: setup
	$(PYTHON) bench/build.py
