"""``python -m bench.latency_smtp PORT LATENCY``: an SMTP server (aiosmtpd) on 127.0.0.1
that answers each DATA after LATENCY seconds, as a remote relay over TLS does. It runs in
a process of its own, so its work never shares the benchmark's interpreter lock. It prints
``ready`` once listening, serves until its stdin closes, then prints the messages it took
and the most DATA commands it had in progress at once."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from aiosmtpd.controller import Controller


class SlowRelay:
    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.taken = 0
        self.active = 0
        self.peak = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.active += 1
        self.peak = max(self.peak, self.active)
        try:
            await asyncio.sleep(self.latency)
        finally:
            self.active -= 1
        self.taken += 1
        return "250 2.0.0 OK: queued"


def main() -> None:
    port, latency = int(sys.argv[1]), float(sys.argv[2])
    relay = SlowRelay(latency)
    controller = Controller(relay, hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    sys.stdin.read()  # until the benchmark closes our stdin
    controller.stop()
    print(f"{relay.taken} {relay.peak}", flush=True)


if __name__ == "__main__":
    main()
