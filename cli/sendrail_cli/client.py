"""A small HTTP client for the public API (the standard library's urllib)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

USER_AGENT = "sendrail-cli/0.1"
RETRIES_ON_429 = 3


class ApiError(Exception):
    """The API answered with an error (exit code 3), or could not be reached."""

    exit_code = 3

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status, self.code, self.message = status, code, message

    def line(self) -> str:
        where = f"HTTP {self.status}" if self.status else "no answer"
        return f"error: {self.code}: {self.message} ({where})"


class AuthError(ApiError):
    """401 or 403: the key or session is missing, wrong, expired or not allowed."""

    exit_code = 4


@dataclass
class Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def text(self) -> str:
        return self.body.decode("utf-8")


def _error(status: int, body: bytes) -> ApiError:
    code, message = f"http_{status}", body.decode("utf-8", "replace").strip()[:200] or "no body"
    try:
        parsed = json.loads(body)
        error = parsed["error"]
        code, message = str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        pass
    kind = AuthError if status in (401, 403) else ApiError
    return kind(status, code, message)


@dataclass
class Client:
    base_url: str
    token: str | None = None
    timeout: float = 60.0
    sleep: Any = field(default=time.sleep, repr=False)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        query: Mapping[str, Any] | None = None,
        raw: bytes | None = None,
        content_type: str = "application/json",
        auth: bool = True,
    ) -> Reply:
        url = self.base_url.rstrip("/") + path
        params = {k: v for k, v in (query or {}).items() if v is not None}
        if params:
            url += "?" + urllib.parse.urlencode(params)
        if not url.startswith(("http://", "https://")):
            raise ApiError(0, "bad_url", f"the URL must start with http:// or https://: {url}")
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        for attempt in range(RETRIES_ON_429 + 1):
            request = urllib.request.Request(url, data=data, method=method)  # noqa: S310
            request.add_header("User-Agent", USER_AGENT)
            request.add_header("Accept", "application/json")
            if data is not None:
                request.add_header("Content-Type", content_type)
            if auth and self.token:
                request.add_header("Authorization", f"Bearer {self.token}")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                    return Reply(response.status, dict(response.headers), response.read())
            except urllib.error.HTTPError as error:
                payload = error.read()
                if error.code == 429 and attempt < RETRIES_ON_429:
                    self.sleep(_retry_after(error.headers.get("Retry-After")))
                    continue
                raise _error(error.code, payload) from None
            except (urllib.error.URLError, OSError) as error:
                reason = getattr(error, "reason", error)
                raise ApiError(
                    0, "unreachable", f"cannot reach {self.base_url}: {reason}"
                ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def get(self, path: str, **query: Any) -> Any:
        return self.request("GET", path, query=query).json()

    def post(self, path: str, body: Any = None) -> Any:
        return self.request("POST", path, body).json()

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path).json()

    def pages(self, path: str, **query: Any) -> Iterator[dict[str, Any]]:
        """Every item of a paged list, following ``next_cursor`` to the end."""
        cursor: str | None = None
        while True:
            page = self.get(path, **query, cursor=cursor)
            yield from page.get("items", [])
            cursor = page.get("next_cursor")
            if not cursor:
                return


def _retry_after(value: str | None) -> float:
    try:
        return min(max(float(value or 1), 0.0), 30.0)
    except ValueError:
        return 1.0
