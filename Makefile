# qmp-shell: `make run` opens the shell on a throwaway QEMU; `make test` runs every test.
# Both install what is missing first (Debian packages via apt-get), so a fresh machine needs nothing else.

SWIFT ?= swift
# Recipes use bash (pipefail in `make test`).
SHELL := /bin/bash
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# libvirt: headers for the build (the binary loads libvirt at run time), a daemon and virsh for the tests;
# gdb: a PTY test whose program would not end shows where its threads were.
APT_PACKAGES := libedit-dev pkg-config qemu-system-x86 qemu-utils qemu-guest-agent \
  libvirt-daemon-system libvirt-clients libvirt-dev gdb
CONFIGURATION ?= debug
PREFIX ?= /usr/local
# Release builds for `make install` live apart from the debug build the tests use.
RELEASE_SCRATCH := .build-release

.PHONY: all deps build test run bench fuzz docs install format lint clean

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

# One test at a time: many end-to-end tests block a thread while they wait for a subprocess or a
# pseudo-terminal, and on two cores parallel runs starve the async tests of the concurrency pool
# (handshakes then time out). The whole suite takes about two minutes this way.
# The full log goes to .build/test.log; on a failure the failing expectations are repeated last, so
# that the end of the output (all a CI summary may show) names them.
# A private libvirtd (scripts/private-libvirtd.sh) serves the libvirt tests; it is stopped, with its
# domains and its folder, however the run ends.
test: deps
	$(SWIFT) build --build-tests
	@set -o pipefail; libvirt_dir=$$(mktemp -d /tmp/qmp-libvirtd.XXXXXX); \
	trap 'bash scripts/private-libvirtd.sh stop "$$libvirt_dir"' EXIT; \
	uri=$$(bash scripts/private-libvirtd.sh start "$$libvirt_dir") || exit 1; \
	QMP_TEST_LIBVIRT_URI="$$uri" QMP_TEST_LIBVIRT_TCP_URI=$$(cat "$$libvirt_dir/tcp-uri") \
	  $(SWIFT) test --skip-build --no-parallel 2>&1 | tee .build/test.log || { \
	  echo "==== what failed (whole log: .build/test.log) ===="; \
	  grep -aE -A 40 "recorded an issue" .build/test.log | grep -avE "^(◇|✔) " | cut -c1-300 | head -150; \
	  grep -aE "^✘ Test run" .build/test.log; exit 1; }

# Opens the shell on a throwaway QEMU; leaving the shell (Ctrl-D) stops QEMU and removes its files.
run: build
	@bash scripts/run-throwaway-qemu.sh "$$($(SWIFT) build -c $(CONFIGURATION) --show-bin-path)/qmp-shell"

# Side-by-side comparisons with the peers (Python's qmp-shell and qemu.qmp; through a private libvirtd,
# virsh and a C client of libvirt's API); prints a table of ratios.
bench: deps
	bash Benchmarks/run.sh

# libFuzzer targets (JSON parser, line parser, message routing) for FUZZ_SECONDS each; fails on a crash.
FUZZ_SECONDS ?= 60
fuzz: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash scripts/fuzz.sh

# The QMP library's DocC documentation (Sources/QMP/QMP.docc) in .build/docs/; fails on any warning.
docs: deps
	bash scripts/docs.sh

# The release binary with the Swift runtime linked in (it runs where no Swift is installed), the man
# page generated from the same declarations as --help, and bash/zsh/fish completions.
install: deps
	@# Two scratch folders: the manual's plugin links its own, dynamic build of the binary.
	mkdir -p $(RELEASE_SCRATCH)/man
	$(SWIFT) package --scratch-path $(RELEASE_SCRATCH)/manual --allow-writing-to-directory $(RELEASE_SCRATCH)/man \
	  generate-manual --output-directory $(RELEASE_SCRATCH)/man
	$(SWIFT) build -c release --product qmp-shell --static-swift-stdlib --scratch-path $(RELEASE_SCRATCH)/static
	install -D -m 755 $(RELEASE_SCRATCH)/static/release/qmp-shell $(DESTDIR)$(PREFIX)/bin/qmp-shell
	install -D -m 644 $(RELEASE_SCRATCH)/man/qmp-shell.1 $(DESTDIR)$(PREFIX)/share/man/man1/qmp-shell.1
	mkdir -p $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	$(RELEASE_SCRATCH)/static/release/qmp-shell --generate-completion-script bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/qmp-shell
	$(RELEASE_SCRATCH)/static/release/qmp-shell --generate-completion-script zsh > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_qmp-shell
	$(RELEASE_SCRATCH)/static/release/qmp-shell --generate-completion-script fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/qmp-shell.fish

format:
	swift-format format --in-place --recursive Sources Tests Benchmarks

# The same rules, checked: CI fails on a finding (`make format` fixes most).
lint:
	swift-format lint --strict --recursive Sources Tests Benchmarks

clean:
	rm -rf .build .bench .build-fuzz $(RELEASE_SCRATCH)
