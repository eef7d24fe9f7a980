"""``python -m bench.fake_providers LATENCY GMAIL OUTLOOK``: the local Gmail API and Graph
fakes (sendrail_local.provider_fakes), answering each send after LATENCY seconds, in a
process of their own (so their work never shares the benchmark's interpreter lock).

Prints one JSON line: the fakes' base URLs, their CA file, and an access token for each of
the GMAIL + OUTLOOK mailboxes ``g<i>@example.com`` / ``o<i>@example.com``; serves until
stdin closes, then prints how many messages they took."""

from __future__ import annotations

import json
import sys

from sendrail.clock import SystemClock
from sendrail_local.outbox import Outbox
from sendrail_local.provider_fakes import Fakes


def main() -> None:
    latency, gmail, outlook = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    outbox = Outbox(SystemClock())
    fakes = Fakes(SystemClock(), outbox)
    fakes.state.send_latency = latency
    fakes.start()
    tokens = {
        **{
            f"g{i}@example.com": fakes.state.issue("gmail", f"g{i}@example.com")["access_token"]
            for i in range(gmail)
        },
        **{
            f"o{i}@example.com": fakes.state.issue("outlook", f"o{i}@example.com")["access_token"]
            for i in range(outlook)
        },
    }
    print(
        json.dumps(
            {
                "google": fakes.google_base,
                "microsoft": fakes.microsoft_base,
                "ca_file": fakes.ca_file,
                "tokens": tokens,
            }
        ),
        flush=True,
    )
    sys.stdin.read()
    taken = len(outbox.items(None))
    fakes.stop()
    print(taken, flush=True)


if __name__ == "__main__":
    main()
