"""The web dashboard's files at ``/app/`` (public: the app signs in through the API)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from sendrail import dashboard
from sendrail.errors import NotFound

router = APIGatewayRouter()

HEADERS = {
    "Content-Security-Policy": dashboard.CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def _serve(path: str) -> Response[str]:
    found = dashboard.asset(path)
    if found is None:
        raise NotFound("no such dashboard file")
    body, content_type = found
    return Response(
        status_code=200, content_type=content_type, body=body.decode(), headers=dict(HEADERS)
    )


@router.get("/app", include_in_schema=False)
def index() -> Response[str]:
    # "/app" and "/app/" reach this route alike; the page's relative links need the slash.
    if not router.current_event.path.endswith("/"):
        return Response(status_code=301, headers={**HEADERS, "Location": "app/"}, body="")
    return _serve("")


@router.get("/app/<name>", include_in_schema=False)
def top_file(name: str) -> Response[str]:
    return _serve(name)


@router.get("/app/<folder>/<name>", include_in_schema=False)
def nested_file(folder: str, name: str) -> Response[str]:
    return _serve(f"{folder}/{name}")
