#!/usr/bin/env bash
# A private libvirtd for the test suite, leaving nothing behind on the host.
#
#   scripts/private-libvirtd.sh start DIR   starts it; prints the URI to use (qemu:///system?socket=...)
#                                           and writes DIR/tcp-uri, the same daemon as a remote host
#                                           (qemu+tcp://127.0.0.1:PORT/system)
#   scripts/private-libvirtd.sh stop DIR    stops it, its domains' QEMUs with it, and removes DIR
#
# The daemon runs in a mount namespace of its own where /etc/libvirt, /run, /var/lib/libvirt,
# /var/cache/libvirt and /var/log/libvirt are folders of DIR, so its configuration, sockets, state and
# logs never touch the host's. qemu.conf runs QEMU as root without cgroups, namespaces, a security
# driver or virtlogd, none of which this machine has (and /dev/kvm would otherwise make every call
# re-probe QEMU). DIR/cache may be kept between runs: it holds QEMU's capability probe (4-5 s).
# It also listens on TCP, on 127.0.0.1 only and without authentication, on a free port: the suite
# reaches it as a remote host would (qemu+tcp://), which real use does over SSH instead.
set -euo pipefail
action=${1:?usage: $0 start|stop DIR}
dir=${2:?usage: $0 start|stop DIR}

start() {
  # The daemon outlives this script: it must hold nothing of the caller's open. A caller that waits
  # for the end of a descriptor it gave us (Foundation's Process watches one per child) would wait
  # for the daemon instead.
  local fd
  for fd in $(ls /proc/$$/fd); do
    [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null || true
  done
  mkdir -p "$dir"/{etc/qemu,run,lib,cache,log,sock}
  chmod 700 "$dir" "$dir/sock"
  local port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  cat > "$dir/etc/libvirtd.conf" <<CONF
listen_tls = 0
listen_tcp = 1
listen_addr = "127.0.0.1"
tcp_port = "$port"
auth_tcp = "none"
unix_sock_dir = "$dir/sock"
unix_sock_group = "root"
unix_sock_ro_perms = "0700"
unix_sock_rw_perms = "0700"
auth_unix_ro = "none"
auth_unix_rw = "none"
log_outputs = "3:file:$dir/log/libvirtd.log"
CONF
  cat > "$dir/etc/qemu.conf" <<CONF
user = "root"
group = "root"
stdio_handler = "file"
cgroup_controllers = [ ]
namespaces = [ ]
security_driver = "none"
CONF
  # Only the QEMU driver's files; the packaged defaults for the others are harmless but slow.
  unshare --mount --propagation private sh -c "
    mount --bind '$dir/etc' /etc/libvirt &&
    mount --bind '$dir/run' /run && mkdir -p /run/libvirt &&
    mount --bind '$dir/lib' /var/lib/libvirt &&
    mount --bind '$dir/cache' /var/cache/libvirt &&
    mount --bind '$dir/log' /var/log/libvirt &&
    exec libvirtd --daemon --listen --pid-file='$dir/libvirtd.pid'"
  local uri="qemu:///system?socket=$dir/sock/libvirt-sock"
  for _ in $(seq 100); do
    if [ -S "$dir/sock/libvirt-sock" ] && virsh -q -c "$uri" version > /dev/null 2>&1; then
      echo "qemu+tcp://127.0.0.1:$port/system" > "$dir/tcp-uri"
      echo "$uri"
      return
    fi
    sleep 0.1
  done
  echo "private libvirtd did not start; its log:" >&2
  tail -20 "$dir/log/libvirtd.log" >&2 || true
  exit 1
}

stop() {
  [ -d "$dir" ] || return 0
  if [ -f "$dir/libvirtd.pid" ]; then
    local pid uri="qemu:///system?socket=$dir/sock/libvirt-sock"
    pid=$(cat "$dir/libvirtd.pid")
    # Transient domains end with their QEMU; destroy them so no QEMU outlives the daemon.
    for domain in $(virsh -q -c "$uri" list --name 2>/dev/null); do
      virsh -q -c "$uri" destroy "$domain" > /dev/null 2>&1 || true
    done
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  # A daemon that was killed outright leaves its domains' QEMUs running: their pid files say which.
  local pidfile qemu
  for pidfile in "$dir"/run/libvirt/qemu/*.pid; do
    [ -e "$pidfile" ] && [ "$(basename "$pidfile")" != driver.pid ] || continue
    qemu=$(cat "$pidfile" 2>/dev/null) || continue
    grep -qa qemu-system "/proc/$qemu/cmdline" 2>/dev/null && kill -9 "$qemu" 2>/dev/null || true
  done
  rm -rf "$dir"
}

"$action"
