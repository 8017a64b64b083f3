# Two commands for a fresh machine with Python 3.11 and make: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# What the tests need besides Python packages, as command:Debian-package: redis-server for the
# cluster tests, chromium and its driver for the browser tests.
TEST_BINARIES := redis-server:redis-server chromium:chromium chromedriver:chromium-driver
APT_GET ?= apt-get
# pywb replays an exported WACZ in the tests. It pins redis 2 and needs gevent, so it lives in a
# virtualenv of its own.
PYWB_VENV := .venv-pywb
PYWB_STAMP := $(PYWB_VENV)/.installed-stamp
PYWB_VERSION := 2.10.0
# The Datasette plugins are tested on the stable release (in .venv) and on the 1.0 alpha, in a
# virtualenv of its own: the same constraints but Datasette's and datasette-atom's (0.9 calls
# Datasette.metadata(), gone in 1.0; its alpha follows Datasette's).
DATASETTE1_VENV := .venv-datasette1
DATASETTE1_STAMP := $(DATASETTE1_VENV)/.installed-stamp
DATASETTE1_PACKAGES := datasette==1.0a41 datasette-atom==0.11a0
DATASETTE1_TESTS := tests/test_room.py tests/test_datasette.py

.PHONY: demo test test-deps lint install docs clean

# The virtualenv is rebuilt when the dependencies change.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

$(PYWB_STAMP):
	$(PYTHON) -m venv $(PYWB_VENV)
	$(PYWB_VENV)/bin/python -m pip install --quiet pywb==$(PYWB_VERSION)
	touch $(PYWB_STAMP)

$(DATASETTE1_STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(DATASETTE1_VENV)
	grep -v -e '^datasette==' -e '^datasette-atom==' constraints.txt > $(DATASETTE1_VENV)/constraints.txt
	$(DATASETTE1_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(DATASETTE1_VENV)/bin/python -m pip install --quiet -c $(DATASETTE1_VENV)/constraints.txt -e '.[test]' \
	    $(DATASETTE1_PACKAGES)
	touch $(DATASETTE1_STAMP)

demo: $(STAMP)
	$(BIN)/portal-archive demo

# Installs the missing binaries through apt-get (with sudo when not root), or says in one line why
# it cannot; tests/test_makefile.py runs this target with them hidden from PATH.
test-deps:
	@missing=""; \
	for pair in $(TEST_BINARIES); do \
	    command -v "$${pair%%:*}" >/dev/null 2>&1 || missing="$$missing $${pair#*:}"; \
	done; \
	[ -z "$$missing" ] && exit 0; \
	if ! command -v $(APT_GET) >/dev/null 2>&1; then \
	    echo "make: the tests need$$missing; no $(APT_GET) here: install them by hand" >&2; exit 1; \
	fi; \
	sudo=""; \
	if [ "$$(id -u)" != 0 ]; then \
	    if ! command -v sudo >/dev/null 2>&1; then \
	        echo "make: the tests need$$missing; run as root or install sudo" >&2; exit 1; \
	    fi; \
	    sudo=sudo; \
	fi; \
	echo "make: installing$$missing (apt-get)"; \
	$$sudo env DEBIAN_FRONTEND=noninteractive $(APT_GET) update -qq >/dev/null && \
	$$sudo env DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y -qq $$missing >/dev/null || { \
	    echo "make: apt-get could not install$$missing" >&2; exit 1; }; \
	for pair in $(TEST_BINARIES); do \
	    command -v "$${pair%%:*}" >/dev/null 2>&1 || { \
	        echo "make: $${pair%%:*} is still not on PATH after installing $${pair#*:}" >&2; exit 1; }; \
	done

lint: $(STAMP)
	$(BIN)/ruff check .

test: test-deps lint $(PYWB_STAMP) $(DATASETTE1_STAMP)
	$(BIN)/pytest
	$(DATASETTE1_VENV)/bin/pytest $(DATASETTE1_TESTS)

# The CLI reference in docs/cli.md is generated from --help; tests/test_docs.py fails when it is stale.
docs: $(STAMP)
	$(BIN)/python -m portal_archive.docs docs/cli.md

clean:
	rm -rf $(VENV) $(PYWB_VENV) $(DATASETTE1_VENV) .pytest_cache .ruff_cache *.egg-info
