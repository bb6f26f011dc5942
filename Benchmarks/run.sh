#!/usr/bin/env bash
# `make bench`: builds the benchmarks in release mode, installs the Python peers into a private
# venv (.bench/venv, git-ignored; the only download is `pip install qemu.qmp` from PyPI), runs every
# comparison side by side on this machine and prints a table of ratios. The output is also kept in
# .bench/last-run.txt.
#
# It also compiles the raw C clients of the replay and the fleet (Benchmarks/raw_lockstep.c,
# Benchmarks/raw_fleet.c, with cc).
# For the `libvirt` comparison (unless --only leaves it out) it also compiles the C client
# (Benchmarks/libvirt_lockstep.c, with gcc against libvirt-dev), starts a private libvirtd
# (scripts/private-libvirtd.sh, in a folder of /tmp) and creates a transient domain on it; the
# daemon, its domain's QEMU and its folder are removed however the run ends.
#
#   SCRATCH=.build-bench bash Benchmarks/run.sh [qmp-bench options, e.g. --runs 3 --only events]
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

SCRATCH="${SCRATCH:-.build}"
BENCH_DIR=.bench
VENV="$BENCH_DIR/venv"
PYTHON="$VENV/bin/python"

mkdir -p "$BENCH_DIR"

# The peers, reused once installed.
if ! "$PYTHON" -c 'import qemu.qmp' 2>/dev/null; then
    echo "==> installing qemu.qmp into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check qemu.qmp
fi
echo "==> peers: qemu.qmp $("$VENV/bin/pip" show qemu.qmp 2>/dev/null | sed -n 's/^Version: //p'), $("$PYTHON" --version)"

echo "==> building qmp-bench (release, scratch path $SCRATCH)"
swift build -c release --scratch-path "$SCRATCH" --product qmp-bench
BIN="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)"
# The shell measured is the one `make install` installs: release, the Swift runtime linked in
# statically, built in the same scratch folder as `make install` (so each reuses the other's build).
STATIC_SCRATCH=.build-release/static
echo "==> building qmp-shell as make install does (release, --static-swift-stdlib, $STATIC_SCRATCH)"
swift build -c release --product qmp-shell --static-swift-stdlib --scratch-path "$STATIC_SCRATCH"

# The `replay` comparison's C client: the least a client of the QMP socket does, in lock step.
RAW_CLIENT="$BENCH_DIR/raw_lockstep"
echo "==> compiling the raw C client ($RAW_CLIENT)"
cc -O2 -Wall -Wextra -o "$RAW_CLIENT" Benchmarks/raw_lockstep.c
# The `fleet` comparison's C client: the least a client does to query many sockets at once.
RAW_FLEET_CLIENT="$BENCH_DIR/raw_fleet"
echo "==> compiling the raw C fleet client ($RAW_FLEET_CLIENT)"
cc -O2 -Wall -Wextra -o "$RAW_FLEET_CLIENT" Benchmarks/raw_fleet.c

# Whether the `libvirt` comparison runs: it does unless --only names others only.
wants_libvirt() {
    local only=() previous=""
    for argument in "$@"; do
        [ "$previous" = --only ] && only+=("$argument")
        previous=$argument
    done
    [ ${#only[@]} -eq 0 ] && return 0
    for id in "${only[@]}"; do [ "$id" = libvirt ] && return 0; done
    return 1
}

LIBVIRT_ARGS=()
if wants_libvirt "$@"; then
    CLIENT="$BENCH_DIR/libvirt_lockstep"
    echo "==> compiling the C client of libvirt ($CLIENT)"
    gcc -O2 -Wall -Wextra -o "$CLIENT" Benchmarks/libvirt_lockstep.c -lvirt-qemu -lvirt -lpthread
    LIBVIRT_DIR=$(mktemp -d /tmp/qmp-libvirtd.XXXXXX)
    trap 'bash scripts/private-libvirtd.sh stop "$LIBVIRT_DIR"' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    echo "==> starting a private libvirtd in $LIBVIRT_DIR"
    LIBVIRT_URI=$(bash scripts/private-libvirtd.sh start "$LIBVIRT_DIR")
    # The test suite's domain (Tests/Support/PrivateLibvirtd.swift): TCG, no disk.
    cat > "$LIBVIRT_DIR/domain.xml" <<'XML'
<domain type='qemu'>
  <name>qmp-bench</name>
  <memory unit='MiB'>64</memory>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices>
</domain>
XML
    virsh -q -c "$LIBVIRT_URI" create "$LIBVIRT_DIR/domain.xml" > /dev/null
    echo "==> libvirt: $(virsh -c "$LIBVIRT_URI" version 2>/dev/null | sed -n 's/^Running hypervisor: //p;s/^Using library: //p' | paste -sd ' ' -), domain qmp-bench on $LIBVIRT_URI"
    LIBVIRT_ARGS=(--libvirt-uri "$LIBVIRT_URI" --libvirt-domain qmp-bench --libvirt-client "$CLIENT")
fi

"$BIN/qmp-bench" --python "$PYTHON" --peers Benchmarks/peers --shell "$STATIC_SCRATCH/release/qmp-shell" \
    --raw-client "$RAW_CLIENT" --raw-fleet-client "$RAW_FLEET_CLIENT" \
    "${LIBVIRT_ARGS[@]}" "$@" 2>&1 | tee "$BENCH_DIR/last-run.txt"
