#!/usr/bin/env bash
# `make run`: opens qmp-shell on a throwaway QEMU worth exploring: a q35 machine with a PCI bus
# (device_add makes sense), no disks, no display, and paused (-S) so it burns no CPU. The shell
# launches QEMU itself (--launch) and stops it on exit: Ctrl-D leaves no process and no file.
set -euo pipefail
shell_binary=$1
exec "$shell_binary" --launch -- qemu-system-x86_64 -M q35 -nodefaults -display none -S -m 256
