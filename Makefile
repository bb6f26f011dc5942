# qmp-shell: `make run` opens the shell on a throwaway QEMU; `make test` runs every test.
# Both install what is missing first (Debian packages via apt-get), so a fresh machine needs nothing else.

SWIFT ?= swift
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := libedit-dev pkg-config qemu-system-x86 qemu-utils qemu-guest-agent
CONFIGURATION ?= debug

.PHONY: all deps build test run bench fuzz format clean

all: build

# Installs the Debian packages the build and the tests need, only if some are missing.
deps:
	@missing=""; \
	for package in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$package 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

build: deps
	$(SWIFT) build -c $(CONFIGURATION) --product qmp-shell

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test

# Opens the shell on a throwaway QEMU; leaving the shell (Ctrl-D) stops QEMU and removes its files.
run: build
	@bash scripts/run-throwaway-qemu.sh "$$($(SWIFT) build -c $(CONFIGURATION) --show-bin-path)/qmp-shell"

# Side-by-side comparisons with the peers (Python's qmp-shell and qemu.qmp); prints a table of ratios.
bench: deps
	bash Benchmarks/run.sh

# libFuzzer targets (JSON parser, line parser, message routing) for FUZZ_SECONDS each; fails on a crash.
FUZZ_SECONDS ?= 60
fuzz: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash scripts/fuzz.sh

format:
	swift-format format --in-place --recursive Sources Tests Benchmarks

clean:
	rm -rf .build .bench .build-fuzz
