"""Our ``EmailStr`` validates, normalises, refuses and documents addresses exactly as
pydantic's does; only the import of email-validator waits for the first address."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, EmailStr, ValidationError
from sendrail.domain import email_str


class Theirs(BaseModel):
    email: EmailStr
    maybe: EmailStr | None = None


class Ours(BaseModel):
    email: email_str.EmailStr
    maybe: email_str.EmailStr | None = None


def _outcome(model: type[BaseModel], value: Any) -> Any:
    try:
        return model.model_validate({"email": value, "maybe": value}).model_dump()
    except ValidationError as exc:
        return [(e["loc"], e["type"], e["msg"]) for e in exc.errors()]


@pytest.mark.parametrize(
    "value",
    [
        "ann@example.com",
        "Ann@Example.COM",
        "  bob@example.org  ",
        "Ann Smith <ann@example.com>",
        '"Smith, Ann" <ann@example.com>',
        "ann@bücher.example",
        "not an address",
        "ann@",
        "ann@localhost",
        "ann@example.com\r\nBcc: x@example.com",
        "a" * 3000 + "@example.com",
        "",
        42,
        None,
    ],
)
def test_given_an_input_then_ours_answers_as_pydantic_s(value: Any):
    assert _outcome(Ours, value) == _outcome(Theirs, value)


def test_given_the_schema_then_ours_documents_an_email_format_like_pydantic_s():
    assert Ours.model_json_schema()["properties"] == Theirs.model_json_schema()["properties"]
