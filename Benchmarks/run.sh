#!/usr/bin/env bash
# `make bench`: builds the benchmarks in release mode, installs the Python peers into a private
# venv (.bench/venv, git-ignored; the only download is `pip install qemu.qmp` from PyPI), runs every
# comparison side by side on this machine and prints a table of ratios. The output is also kept in
# .bench/last-run.txt.
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

"$BIN/qmp-bench" --python "$PYTHON" --peers Benchmarks/peers --shell "$STATIC_SCRATCH/release/qmp-shell" "$@" 2>&1 \
    | tee "$BENCH_DIR/last-run.txt"
