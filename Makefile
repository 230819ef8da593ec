# agent-tui — every target works from a fresh clone on a fresh Debian/Ubuntu machine.
# `make run` and `make test` depend on `install`, which installs whatever is missing first.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# Debian packages needed at run and test time: PortAudio for sounddevice; espeak-ng for the demo agent's
# voice; iproute2 and util-linux (unshare) for the test network namespace; PulseAudio with its ALSA
# plugin for the virtual audio devices the tests use; tmux for the terminal end-to-end test; the libxcb
# libraries mss loads for --screen on X11; xvfb for the virtual X display the screen-share test captures.
DEB_PACKAGES := libportaudio2 espeak-ng iproute2 util-linux pulseaudio pulseaudio-utils libasound2-plugins tmux \
	libxcb1 libxcb-randr0 libxcb-render0 libxcb-shm0 libxcb-xfixes0 xvfb
# Test-only: Debian's Chromium for the browser tests (LiveKit's JS SDK, driven by playwright-core from npm).
TEST_DEB_PACKAGES := chromium
PACKAGES = $(DEB_PACKAGES)
EXTRAS := dev,devserver,demo,video,load
PYTEST_ARGS ?=
# A test that fails is run once more (listed as rerun in the summary); one that fails twice fails the run.
RERUNS ?= --reruns 1 --reruns-delay 2
ARGS ?=
# The open-source LiveKit server the end-to-end tests also run against, built from its Go module (no cgo)
# into a git-ignored folder. Pinned here and nowhere else; a new version builds beside the old one.
LIVEKIT_SERVER_VERSION := v1.13.5
LIVEKIT_SERVER_DIR := .tools/livekit-server-$(LIVEKIT_SERVER_VERSION)
LIVEKIT_SERVER := .tools/bin/livekit-server
GO_MIN := 1.26

.PHONY: install system-packages test lint run bench soak soak-long clean livekit-server livekit-server-if-go browser-packages wheelhouse

install: system-packages $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -m venv --help >/dev/null 2>&1 || { echo "Python's venv module is missing: run 'sudo apt-get install python3-venv'"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[$(EXTRAS)]'
	@touch $@

system-packages:
	@missing=""; \
	if ! command -v dpkg >/dev/null 2>&1; then \
	  echo "Not a Debian/Ubuntu system: install PortAudio (libportaudio2) and iproute2 with your package manager."; exit 0; \
	fi; \
	for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then SUDO=""; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo"; \
	else echo "agent-tui needs these Debian packages:$$missing"; \
	     echo "Run: sudo apt-get update && sudo apt-get install -y$$missing"; exit 1; fi; \
	echo "Installing Debian packages:$$missing"; \
	$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing

test: install livekit-server-if-go browser-packages wheelhouse
	AGENT_TUI_WHEELHOUSE=$(CURDIR)/.tools/wheelhouse tests/netns/run $(PY) -m pytest $(RERUNS) $(PYTEST_ARGS)

# The package's wheel and its base dependencies, built here because the test namespace has no network:
# the install test puts them into a fresh venv with --no-index, as a user's pipx would from PyPI.
wheelhouse:
	@$(PY) -m pip wheel -q --disable-pip-version-check -w .tools/wheelhouse .

# The browser tests' Chromium (Debian) and npm packages (livekit-client, playwright-core, pinned by
# tests/browser/package-lock.json; never a browser download). Without npm they skip and say why.
browser-packages:
	@$(MAKE) --no-print-directory system-packages PACKAGES="$(TEST_DEB_PACKAGES)"
	@if ! command -v npm >/dev/null 2>&1; then echo "npm not found: the browser tests will skip (install Node.js)"; \
	elif [ ! -f tests/browser/node_modules/.package-lock.json ] || \
	     [ tests/browser/package-lock.json -nt tests/browser/node_modules/.package-lock.json ]; then \
	  cd tests/browser && npm ci --no-audit --no-fund --loglevel=error; fi

# Builds livekit-server when it is missing (a cold build takes a few minutes on 2 cores; Go keeps its
# module and build caches, so a rebuild is quick). Needs Go $(GO_MIN) or later.
livekit-server: $(LIVEKIT_SERVER_DIR)/livekit-server
	@ln -sfn ../livekit-server-$(LIVEKIT_SERVER_VERSION)/livekit-server $(LIVEKIT_SERVER)

$(LIVEKIT_SERVER_DIR)/livekit-server:
	@command -v go >/dev/null 2>&1 || { echo "livekit-server is built with Go $(GO_MIN) or later, and 'go' is not on PATH: install Go (https://go.dev/doc/install)"; exit 1; }
	@have=$$(go env GOVERSION | sed 's/^go//'); \
	if [ "$$(printf '%s\n%s\n' "$(GO_MIN)" "$$have" | sort -V | head -n 1)" != "$(GO_MIN)" ]; then \
	  echo "livekit-server $(LIVEKIT_SERVER_VERSION) needs Go $(GO_MIN) or later; this is Go $$have"; exit 1; fi
	@mkdir -p $(LIVEKIT_SERVER_DIR) .tools/bin
	@echo "Building livekit-server $(LIVEKIT_SERVER_VERSION) from its Go module (a few minutes the first time)"
	CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-buildvcs=false GOBIN=$(abspath $(LIVEKIT_SERVER_DIR)) \
	  go install github.com/livekit/livekit-server/cmd/server@$(LIVEKIT_SERVER_VERSION)
	mv $(LIVEKIT_SERVER_DIR)/server $@

# What `make test` uses: livekit-server, built first where Go is new enough; without it, the tests that
# need it skip and say how to get it.
livekit-server-if-go:
	@if command -v go >/dev/null 2>&1 && [ "$$(printf '%s\n%s\n' "$(GO_MIN)" "$$(go env GOVERSION | sed 's/^go//')" | sort -V | head -n 1)" = "$(GO_MIN)" ]; then \
	  $(MAKE) --no-print-directory livekit-server; \
	else echo "Go $(GO_MIN)+ not found: the tests against livekit-server will skip (install Go, then 'make livekit-server')"; fi

lint: install
	$(VENV)/bin/ruff check agent_tui tests bench examples
	$(VENV)/bin/mypy agent_tui/session agent_tui/ui agent_tui/scenario agent_tui/load agent_tui/livekit_server agent_tui/headless agent_tui/config.py agent_tui/cli.py agent_tui/exit_codes.py agent_tui/paths.py agent_tui/logging_setup.py agent_tui/wiring examples

run: install
	$(VENV)/bin/agent-tui demo $(ARGS)

bench: install
	tests/netns/run $(PY) -m bench

# Ten minutes of duplex audio on the virtual devices; prints underruns and drops.
soak: install
	tests/netns/run $(PY) -m bench.bench_audio --seconds 20 --soak 600

# A spoken conversation with the real demo (the app in a pty, virtual PulseAudio, a question every 20 s)
# for SOAK_MINUTES: RSS and CPU of the client, the worker and its jobs every minute, and their drift.
SOAK_MINUTES ?= 120
SOAK_OUT ?= soak-long.csv
soak-long: install
	tests/netns/run $(PY) -m bench.bench_soak --minutes $(SOAK_MINUTES) --out $(SOAK_OUT)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .tools tests/browser/node_modules
