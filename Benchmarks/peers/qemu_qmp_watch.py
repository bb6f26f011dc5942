#!/usr/bin/env python3
"""Peer for the "--watch" comparison: qemu.qmp's QMPClient printing events as JSON lines.

What `qmp-shell --watch --count N` does, written with qemu.qmp as a user of the library would:
register a listener, connect, print every event as one JSON line (json.dumps), stop after
--events events, disconnect. Standard output keeps Python's default buffering (a pipe is block
buffered). The bench times it from outside, from the server's first event to this process's exit,
and counts the lines it printed; it prints nothing else.
"""

import argparse
import asyncio
import json

from qemu.qmp import EventListener, QMPClient


async def watch(socket_path: str, count: int) -> None:
    qmp = QMPClient("watch")
    listener = EventListener()
    # Registered before connecting: the server floods as soon as the handshake is done.
    qmp.register_listener(listener)
    await qmp.connect(socket_path)
    printed = 0
    try:
        async for event in listener:
            print(json.dumps(dict(event)))
            printed += 1
            if printed == count:
                break
    finally:
        await qmp.disconnect()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--socket", required=True, help="the flood server's UNIX socket")
    parser.add_argument("--events", type=int, required=True, help="how many events to print")
    args = parser.parse_args()
    asyncio.run(watch(args.socket, args.events))


if __name__ == "__main__":
    main()
