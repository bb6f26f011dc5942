#!/usr/bin/env bash
# Installs qmp-shell into a temporary prefix as a user would (`make install PREFIX=...`) and checks
# the result works without the Swift toolchain: no Swift runtime libraries needed, the binary runs
# with an empty environment against a QEMU it launches, it starts where libvirt is missing (and says
# what to install for --domain), and the man page and completions exist.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=$(mktemp -d /tmp/qmp-install-XXXXXX)
trap 'rm -rf "$prefix"' EXIT
make install PREFIX="$prefix" > "$prefix.log" 2>&1 || { tail -30 "$prefix.log"; exit 1; }
binary="$prefix/bin/qmp-shell"
fail() { echo "check-install: $*" >&2; exit 1; }
if ldd "$binary" | grep -qi swift; then fail "the binary needs Swift runtime libraries: $(ldd "$binary" | grep -i swift)"; fi
if ldd "$binary" | grep -qi libvirt; then fail "the binary links libvirt: it must load it only for --domain"; fi
# A host without libvirt: the library hidden in a mount namespace of our own. The shell must say
# what to install and exit 3, not fail to start.
library=$(readlink -f /usr/lib/x86_64-linux-gnu/libvirt.so.0)
missing=$(unshare -m sh -c "mount --bind /dev/null '$library' && '$binary' --domain vm -c query-status" 2>&1) && status=0 || status=$?
[ "$status" = 3 ] || fail "without libvirt, --domain exited $status: $missing"
case "$missing" in *"apt-get install libvirt0"*) ;; *) fail "without libvirt, --domain said: $missing" ;; esac
version=$(env -i "$binary" --version)
[ -n "$version" ] || fail "--version printed nothing"
reply=$(env -i PATH=/usr/bin:/bin "$binary" --launch -c query-status -- qemu-system-x86_64 -M none -nodefaults -display none)
case "$reply" in *'"status":"running"'*) ;; *) fail "unexpected reply: $reply" ;; esac
[ -s "$prefix/share/man/man1/qmp-shell.1" ] || fail "no man page"
grep -q "keep-going" "$prefix/share/man/man1/qmp-shell.1" || fail "the man page does not list the options"
for completion in share/bash-completion/completions/qmp-shell share/zsh/site-functions/_qmp-shell \
  share/fish/vendor_completions.d/qmp-shell.fish; do
  [ -s "$prefix/$completion" ] || fail "missing $completion"
done
rm -f "$prefix.log"
echo "check-install: 1 passed, 0 failed (qmp-shell $version, $(du -h "$binary" | cut -f1), no Swift runtime needed, runs without libvirt)"
