"""Merge tags: ``{{ first_name }}``, filters, conditionals and loops over the recipient's
data, rendered by Jinja2's sandbox (``template_sandbox``). An unknown tag renders empty.

Every compile and render is held to a :class:`Budget` (time, output, work, loop
iterations, number size): over it, :class:`BudgetExceeded` (a :class:`TemplateError`).
A template that does not compile, or that goes over budget even without recipient data,
is refused when the campaign is saved; one that goes over for a recipient fails that
recipient at send time."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sendrail.domain.template_budget import DEFAULT, Budget, BudgetExceeded, TemplateError

if TYPE_CHECKING:
    from jinja2 import Template

# Jinja2 is imported on first use: a dispatch run with nothing to send never renders.

__all__ = ["DEFAULT", "Budget", "BudgetExceeded", "TemplateError", "check", "merge_tags", "render"]


@lru_cache(maxsize=512)
def _compiled(source: str, autoescape: bool, budget: Budget) -> Template | TemplateError:
    """The compiled template, or why it does not compile (kept too: a bad template is
    not compiled again for every recipient)."""
    from sendrail.domain.template_sandbox import compile_template  # noqa: PLC0415

    try:
        return compile_template(source, autoescape, budget)
    except BudgetExceeded as exc:
        if exc.limit == "seconds":
            raise  # a busy machine, maybe: not kept (lru_cache keeps no exception)
        return exc
    except TemplateError as exc:
        return exc


def _template(source: str, autoescape: bool, budget: Budget) -> Template:
    compiled = _compiled(source, autoescape, budget)
    if isinstance(compiled, TemplateError):
        raise compiled
    return compiled


def render(
    source: str, data: dict[str, Any], *, html: bool = False, budget: Budget = DEFAULT
) -> str:
    """Render with the recipient's data; in HTML, values are escaped."""
    from sendrail.domain.template_sandbox import render_template  # noqa: PLC0415

    template = _template(source, html, budget)
    try:
        return render_template(template, data, budget)
    except TemplateError:
        raise
    except RecursionError as exc:
        raise TemplateError("nested too deeply (recursion)") from exc
    except Exception as exc:
        # Whatever the template did wrong with this recipient's data (a type error, a
        # division by zero, the sandbox refusing an attribute): that recipient fails.
        raise TemplateError(f"template failed to render: {type(exc).__name__}") from exc


def check(source: str, *, budget: Budget = DEFAULT) -> None:
    """Raise :class:`TemplateError` when ``source`` does not compile, or goes over budget
    when rendered with no recipient data (``{{ 9 ** 9 ** 9 }}``, a loop over
    ``range(100000)`` inside another): such a template could never be sent."""
    _template(source, False, budget)
    try:
        render(source, {}, budget=budget)
    except BudgetExceeded:
        raise
    except TemplateError:
        pass  # it may need recipient data to render: judged per recipient at send time


@lru_cache(maxsize=256)
def merge_tags(source: str, *, budget: Budget = DEFAULT) -> frozenset[str]:
    """The names ``source`` takes from the recipient's data (``{{ first_name }}`` ->
    ``first_name``); empty when it does not parse (refused when saved anyway)."""
    from sendrail.domain.template_sandbox import merge_tags as found  # noqa: PLC0415

    try:
        return found(source, budget)
    except TemplateError:
        return frozenset()
