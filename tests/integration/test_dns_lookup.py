"""The DNS lookups stay bounded when the process's wall clock stands still (the local
stack's virtual clock moves ``time.time()`` only when told)."""

from __future__ import annotations

import threading

import time_machine
from sendrail.domain.sender_auth import Answer
from sendrail.providers.dns_lookup import DnsConfig, DnsLookup

from tests.fakes.dns_server import DnsServer


def test_given_a_frozen_wall_clock_and_a_silent_server_then_the_lookup_times_out() -> None:
    server = DnsServer(['ok.test. 300 IN TXT "v=spf1 -all"'], silent=["slow.test"]).start()
    answers: list[Answer] = []
    try:
        config = DnsConfig(nameserver="127.0.0.1", port=server.port, timeout=0.5, budget=3)
        with time_machine.travel("2026-11-20T08:00:00Z", tick=False):
            # When a lookup asks a server that never answers
            worker = threading.Thread(
                target=lambda: answers.extend(
                    [DnsLookup(config).txt("slow.test"), DnsLookup(config).txt("ok.test")]
                ),
                daemon=True,
            )
            worker.start()
            worker.join(timeout=30)
        # Then it ends (dnspython alone measures its lifetime by time.time(): for ever)
        assert not worker.is_alive()
    finally:
        server.stop()
    assert answers[0].outcome == "timeout"
    assert answers[1] == Answer("ok", ("v=spf1 -all",))
