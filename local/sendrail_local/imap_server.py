"""A real IMAP server for the local stack and the tests: pymap's in-memory backend on
127.0.0.1, in a thread of its own, where any user name and password log in (each user
has its own folders; the local stack delivers a mailbox's mail to the user named by its
address). Mail is put in with a plain IMAP ``APPEND`` (:meth:`LocalImapServer.deliver`)."""

from __future__ import annotations

import asyncio
import threading
from argparse import Namespace
from contextlib import AsyncExitStack
from datetime import datetime
from typing import Any

from imapclient import IMAPClient
from pymap.backend.dict import Config, DictBackend, Identity, Login
from pymap.imap import IMAPService
from pymap.user import UserMetadata

_STARTUP_SECONDS = 10.0


class _AnyUserLogin(Login):
    """Every user name exists and every password is right."""

    async def authenticate(self, credentials: Any) -> Identity:
        name = str(credentials.authcid)
        if name not in self.users_dict:
            self.users_dict[name] = UserMetadata(self.config, name)
        return Identity(name, self, None, frozenset())


def _args(host: str, port: int) -> Namespace:
    return Namespace(
        host=host,
        port=str(port),
        debug=False,
        cert=None,
        key=None,
        tls=False,
        passlib_cfg=None,
        proxy_protocol=None,
        inherited_sockets=None,
        demo_data=False,
        demo_user="demouser",
        demo_password="demopass",
    )


class LocalImapServer:
    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._failed: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="local-imap", daemon=True)

    def start(self) -> LocalImapServer:
        self._thread.start()
        if not self._ready.wait(_STARTUP_SECONDS):
            raise RuntimeError("the local IMAP server did not start")
        if self._failed is not None:
            raise RuntimeError(f"the local IMAP server did not start: {self._failed}")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=_STARTUP_SECONDS)

    def __enter__(self) -> LocalImapServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # noqa: BLE001 - reported to start()
            self._failed = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        config = Config.from_args(
            _args(self.host, self.port), secure_auth=False, invalid_user_sleep=0.0
        )
        backend = DictBackend(_AnyUserLogin(config), config)
        async with AsyncExitStack() as stack:
            await backend.start(stack)
            await IMAPService(backend, config).start(stack)
            self._ready.set()
            await self._stop.wait()

    # --- putting mail in (as an MTA would), over IMAP itself --------------------------------

    def deliver(
        self, user: str, raw: bytes, folder: str = "INBOX", when: datetime | None = None
    ) -> None:
        with IMAPClient(self.host, self.port, ssl=False, timeout=10) as client:
            client.login(user, "local")
            if folder != "INBOX" and not client.folder_exists(folder):
                client.create_folder(folder)
            client.append(folder, raw, msg_time=when)
