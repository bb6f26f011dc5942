#!/usr/bin/env bash
# Starts a throwaway QEMU worth exploring (a q35 machine with a PCI bus, no disks, no display,
# no guest code running so it burns no CPU), opens qmp-shell on its QMP socket, and removes
# everything when the shell exits.
set -euo pipefail
shell_binary=$1
directory=$(mktemp -d /tmp/qmp-run-XXXXXX)
chmod 700 "$directory"
socket="$directory/qmp.sock"
qemu_pid=""
cleanup() {
  if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then
    kill "$qemu_pid" 2>/dev/null || true
    wait "$qemu_pid" 2>/dev/null || true
  fi
  rm -rf "$directory"
}
trap cleanup EXIT
qemu-system-x86_64 -M q35 -nodefaults -display none -S -m 256 \
  -qmp "unix:$socket,server=on,wait=off" </dev/null &
qemu_pid=$!
for _ in $(seq 1 200); do
  [ -S "$socket" ] && break
  kill -0 "$qemu_pid" 2>/dev/null || { echo "QEMU failed to start" >&2; exit 3; }
  sleep 0.05
done
status=0
"$shell_binary" "$socket" || status=$?
exit $status
