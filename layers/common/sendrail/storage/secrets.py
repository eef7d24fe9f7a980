"""Envelope encryption of secrets at rest (SMTP passwords, OAuth tokens).

Each seal asks KMS for a fresh data key, encrypts with AES-256-GCM (``cryptography``) and
stores the KMS-wrapped key beside the ciphertext. The owner's id (the mailbox id) is bound
twice: as the AES-GCM associated data and as the KMS encryption context, so a blob copied
onto another mailbox does not open. Unwrapped data keys are cached for the life of the
process (one KMS call per mailbox per cold start, not per email)."""

from __future__ import annotations

import base64
import os
import threading
from collections import OrderedDict
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sendrail.domain.models import EncryptedBlob
from sendrail.storage import clients


class SecretBox:
    def __init__(self, key_id: str, region: str, client: Any = None, cache_size: int = 256) -> None:
        self._key_id = key_id
        self._region = region
        self._client = client
        self._cache: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()  # dispatch opens secrets from several lanes at once

    @property
    def client(self) -> Any:
        # Created once, under the lock: lanes may open their first secret at the same time.
        with self._lock:
            if self._client is None:
                self._client = clients.client("kms", self._region)
            return self._client

    def seal(self, plaintext: bytes, owner: str) -> EncryptedBlob:
        data_key = self.client.generate_data_key(
            KeyId=self._key_id, KeySpec="AES_256", EncryptionContext={"owner": owner}
        )
        nonce = os.urandom(12)
        ciphertext = AESGCM(data_key["Plaintext"]).encrypt(nonce, plaintext, owner.encode())
        return EncryptedBlob(
            key_id=data_key["KeyId"],
            wrapped_key=base64.b64encode(data_key["CiphertextBlob"]).decode(),
            nonce=base64.b64encode(nonce).decode(),
            ciphertext=base64.b64encode(ciphertext).decode(),
        )

    def open(self, blob: EncryptedBlob, owner: str) -> bytes:
        key = self._data_key(blob.wrapped_key, owner)
        return AESGCM(key).decrypt(
            base64.b64decode(blob.nonce), base64.b64decode(blob.ciphertext), owner.encode()
        )

    def _data_key(self, wrapped: str, owner: str) -> bytes:
        cache_key = (wrapped, owner)
        with self._lock:
            if cache_key in self._cache:
                self._cache.move_to_end(cache_key)
                return self._cache[cache_key]
        key: bytes = self.client.decrypt(
            CiphertextBlob=base64.b64decode(wrapped), EncryptionContext={"owner": owner}
        )["Plaintext"]
        with self._lock:
            self._cache[cache_key] = key
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return key
