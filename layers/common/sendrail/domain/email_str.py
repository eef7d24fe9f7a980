"""``EmailStr`` for request models: pydantic's own, validated by the same function
(``pydantic.networks.validate_email``), but email-validator is imported at the first
validation instead of when a model is defined, so a cold start that validates no address
(most of enqueue's) does not pay for compiling its grammar."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic.networks import validate_email
from pydantic_core import core_schema

if TYPE_CHECKING:
    EmailStr = str
else:

    class EmailStr:
        """An email address, normalised as pydantic's ``EmailStr`` does; ``format: email``
        in the OpenAPI document."""

        @classmethod
        def __get_pydantic_core_schema__(
            cls, _source: type[Any], _handler: GetCoreSchemaHandler
        ) -> core_schema.CoreSchema:
            return core_schema.no_info_after_validator_function(
                cls._validate, core_schema.str_schema()
            )

        @classmethod
        def __get_pydantic_json_schema__(
            cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
        ) -> JsonSchemaValue:
            field_schema = handler(schema)
            field_schema.update(type="string", format="email")
            return field_schema

        @classmethod
        def _validate(cls, value: str, /) -> str:
            return validate_email(value)[1]  # imports email-validator on first use
