#!/usr/bin/env python3
"""Peer for the "events through a listener" comparison: qemu.qmp's async QMPClient.

Connects to the flood server, listens for every event, sends x-flood, counts events until
--events have arrived, and prints one JSON line: {"events": N, "seconds": S, "rate": N / S},
timing the same span as the Swift side (from sending x-flood to the last event).
"""

import argparse
import asyncio
import importlib.metadata
import json
import platform
import time

from qemu.qmp import QMPClient


async def measure(socket_path: str, count: int) -> dict:
    qmp = QMPClient("bench")
    await qmp.connect(socket_path)
    received = 0
    try:
        with qmp.listener() as listener:
            start = time.perf_counter()
            await qmp.execute("x-flood")
            async for _event in listener:
                received += 1
                if received == count:
                    break
            seconds = time.perf_counter() - start
    finally:
        await qmp.disconnect()
    return {
        "events": received,
        "seconds": seconds,
        "rate": received / seconds,
        "peer": f"qemu.qmp {importlib.metadata.version('qemu.qmp')} on Python {platform.python_version()}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--socket", required=True, help="the flood server's UNIX socket")
    parser.add_argument("--events", type=int, required=True, help="how many events to count")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(measure(args.socket, args.events))))


if __name__ == "__main__":
    main()
