"""Merge tags: ``{{ first_name }}`` rendered by Jinja2's sandbox. An unknown tag renders
empty; a template that does not parse is rejected when the campaign is saved."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jinja2.sandbox import ImmutableSandboxedEnvironment

# Jinja2 is imported on first use: a dispatch run with nothing to send never renders.


class TemplateError(ValueError):
    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


@lru_cache(maxsize=2)
def _environment(autoescape: bool) -> ImmutableSandboxedEnvironment:
    from jinja2 import Undefined  # noqa: PLC0415
    from jinja2.sandbox import ImmutableSandboxedEnvironment  # noqa: PLC0415

    class Blank(Undefined):
        """Unknown tags and attributes of unknown tags render as an empty string."""

        def __getattr__(self, name: str) -> Blank:
            if name[:2] == "__":
                raise AttributeError(name)
            return self

        def __getitem__(self, key: Any) -> Blank:  # type: ignore[override]
            return self

        def __str__(self) -> str:
            return ""

        def __iter__(self) -> Any:
            return iter(())

        def __bool__(self) -> bool:
            return False

    return ImmutableSandboxedEnvironment(undefined=Blank, autoescape=autoescape)


@lru_cache(maxsize=512)
def _compile(source: str, autoescape: bool) -> Any:
    from jinja2 import TemplateSyntaxError  # noqa: PLC0415

    try:
        return _environment(autoescape).from_string(source)
    except TemplateSyntaxError as exc:
        raise TemplateError(f"line {exc.lineno}: {exc.message}", line=exc.lineno) from exc


def check(source: str) -> None:
    """Raise :class:`TemplateError` when ``source`` does not parse."""
    _compile(source, False)


def render(source: str, data: dict[str, Any], *, html: bool = False) -> str:
    """Render with the recipient's data; in HTML, values are escaped."""
    try:
        return str(_compile(source, html).render(**data))
    except TemplateError:
        raise
    except Exception as exc:
        raise TemplateError(f"template failed to render: {type(exc).__name__}") from exc
