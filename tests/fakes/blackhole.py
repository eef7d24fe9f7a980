"""A TCP server on 127.0.0.1 that accepts connections and never says a word: an SMTP host
that does not answer (a firewall that holds connections, a relay stuck under load)."""

from __future__ import annotations

import contextlib
import socket
import threading


class Blackhole:
    def __init__(self) -> None:
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = int(self._listener.getsockname()[1])
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def start(self) -> Blackhole:
        self._thread.start()
        return self

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return  # closed by stop()
            self._held.append(conn)

    @property
    def connections(self) -> int:
        return len(self._held)

    def stop(self) -> None:
        self._listener.close()
        for conn in self._held:
            with contextlib.suppress(OSError):
                conn.close()
