#!/usr/bin/env python3
"""Peer for the "replay" comparison: the least a client can do, in lock-step.

Connects to the QMP socket, reads the greeting, negotiates, then for every line of --file sends
{"execute": LINE} and reads until the reply's line end before sending the next. No JSON parsing
and no event handling: only finding the end of each line. The line is the command's name (the
file holds `query-status` lines). This is what QEMU allows one client at a time to reach, the
ceiling the shell's replay is compared with. Prints one JSON line with its own count and time
(the bench uses the process's wall time, as for the other sides).
"""

import argparse
import json
import socket
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--socket", required=True, help="QEMU's QMP UNIX socket")
    parser.add_argument("--file", required=True, help="one command name per line")
    args = parser.parse_args()
    with open(args.file, encoding="utf-8") as lines:
        commands = [b'{"execute": "%s"}\n' % line.strip().encode() for line in lines if line.strip()]

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(args.socket)
    pending = b""

    def read_line() -> bytes:
        nonlocal pending
        while True:
            end = pending.find(b"\n")
            if end >= 0:
                line, pending = pending[: end + 1], pending[end + 1 :]
                return line
            chunk = sock.recv(65536)
            if not chunk:
                raise SystemExit("the server closed the connection")
            pending += chunk

    read_line()  # the greeting
    sock.sendall(b'{"execute": "qmp_capabilities"}\n')
    read_line()
    start = time.perf_counter()
    for command in commands:
        sock.sendall(command)
        read_line()
    seconds = time.perf_counter() - start
    sock.close()
    print(json.dumps({"commands": len(commands), "seconds": seconds, "rate": len(commands) / seconds}))


if __name__ == "__main__":
    main()
