"""A real DNS server on 127.0.0.1 (UDP, dnslib's wire format) serving a zone the test
defines: names answer their records (following CNAMEs inside the zone), unknown names
NXDOMAIN, known names without the asked type an empty answer; names under a
``servfail`` suffix answer SERVFAIL and names under a ``silent`` suffix never answer (a
timeout). ``queries`` records every question asked, so tests can see the cache at work."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterable

from dnslib import QTYPE, RCODE, RR, DNSRecord


class DnsServer:
    def __init__(
        self,
        zone: Iterable[str],
        *,
        servfail: Iterable[str] = (),
        silent: Iterable[str] = (),
        port: int = 0,
    ) -> None:
        self.records: list[RR] = []
        self.set_zone(zone)
        self.servfail = tuple(s.lower().rstrip(".") for s in servfail)
        self.silent = tuple(s.lower().rstrip(".") for s in silent)
        self.queries: list[tuple[str, str]] = []
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                data, sock = self.request
                reply = outer.answer(data)
                if reply is not None:
                    sock.sendto(reply, self.client_address)

        self._server = socketserver.ThreadingUDPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def set_zone(self, zone: Iterable[str]) -> None:
        records: list[RR] = []
        for line in zone:
            records.extend(RR.fromZone(line))
        self.records = records

    def start(self) -> DnsServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    @staticmethod
    def _under(name: str, suffixes: tuple[str, ...]) -> bool:
        return any(name == s or name.endswith("." + s) for s in suffixes)

    def answer(self, data: bytes) -> bytes | None:
        request = DNSRecord.parse(data)
        name = str(request.q.qname).lower().rstrip(".")
        qtype = QTYPE[request.q.qtype]
        self.queries.append((name, qtype))
        if self._under(name, self.silent):
            return None
        reply = request.reply()  # aa=1, ra=1
        if self._under(name, self.servfail):
            reply.header.rcode = RCODE.SERVFAIL
            return bytes(reply.pack())
        target, known = name, False
        for _ in range(8):  # CNAME chains inside the zone, bounded
            here = [r for r in self.records if str(r.rname).lower().rstrip(".") == target]
            known = known or bool(here)
            wanted = [r for r in here if QTYPE[r.rtype] == qtype]
            cname = [r for r in here if QTYPE[r.rtype] == "CNAME"]
            if wanted or not cname or qtype == "CNAME":
                for record in wanted:
                    reply.add_answer(record)
                break
            reply.add_answer(cname[0])
            target = str(cname[0].rdata.label).lower().rstrip(".")
        if not known:
            reply.header.rcode = RCODE.NXDOMAIN
        return bytes(reply.pack())
