"""What one template may cost, and the meter that holds a compile or a render to it.

Templates run in worker threads of the shared dispatcher, several at once, so the budget is
cooperative: nothing is interrupted by a signal. Instead every place where a template can
spend time or build text checks the meter first (``template_sandbox`` wires those places:
each loop iteration, call, filter, operator and output). What a single step would build is
predicted *before* it runs (``3 * 10**6`` characters, ``9 ** 9 ** 9``, ``'%0999999999d'``)
so no step is ever long; the deadline bounds the sum of the steps.

The meter of the render under way sits in a context variable: each thread has its own, and
a template cannot name it."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache


class TemplateError(ValueError):
    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


class BudgetExceeded(TemplateError):
    """A compile or render went over its :class:`Budget`; ``limit`` names the field of the
    budget (``seconds``, ``output``, ``work``, ``iterations``, ``calls``, ``int_bits``,
    ``width``, ``tokens``)."""

    def __init__(self, message: str, *, limit: str) -> None:
        super().__init__(message)
        self.limit = limit


@dataclass(frozen=True)
class Budget:
    seconds: float = 1.0  # wall time of one compile, and of one render
    output: int = 1_000_000  # characters a render may produce; also the largest value
    work: int = 8_000_000  # characters built along the way (intermediate text included)
    iterations: int = 100_000  # loop iterations of one render, nested loops included
    calls: int = 100_000  # calls of macros, methods and functions in one render
    int_bits: int = 256  # the largest number arithmetic may make or take
    width: int = 1_000  # the largest width or precision in a format
    tokens: int = 20_000  # tokens in a template's tags and text (bounds compile time)


DEFAULT = Budget()


def _over(what: str, limit: str) -> BudgetExceeded:
    return BudgetExceeded(f"over budget: {what}", limit=limit)


class Meter:
    """Counts one compile or render against its budget; raises :class:`BudgetExceeded` at
    the first excess. Used by one thread at a time (it lives in a context variable).

    The clock is read where a template can repeat itself (loop iterations, calls, items of
    an iterator, tokens), not at every step: straight-line code is bounded by its length,
    and every single step by the size checks."""

    __slots__ = (
        "budget",
        "calls",
        "deadline",
        "iterations",
        "max_value",
        "max_work",
        "tokens",
        "work",
    )

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.deadline = time.monotonic() + budget.seconds
        self.max_value = budget.output
        self.max_work = budget.work
        self.work = 0
        self.iterations = 0
        self.calls = 0
        self.tokens = 0

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise _over(f"took longer than {self.budget.seconds:g} s", "seconds")

    def fits(self, size: int) -> None:
        """Refuse a value of ``size`` characters before building it."""
        if size > self.max_value or self.work + size > self.max_work:
            raise self._too_big(size)

    def spend(self, size: int) -> None:
        """Count ``size`` characters built."""
        if size > 0:
            work = self.work + size
            if size > self.max_value or work > self.max_work:
                raise self._too_big(size)
            self.work = work

    def _too_big(self, size: int) -> BudgetExceeded:
        if size > self.max_value:
            return _over(f"a value longer than {self.max_value:,} characters", "output")
        return _over(f"builds more than {self.max_work:,} characters of text", "work")

    def iterate(self, body: int) -> None:
        """One more loop iteration, whose body holds ``body`` characters of literal text."""
        self.iterations += 1
        if self.iterations > self.budget.iterations:
            raise _over(f"loops ran more than {self.budget.iterations:,} times", "iterations")
        self.spend(body)
        self.tick()

    def call(self) -> None:
        """One more call of a macro, method or function."""
        self.calls += 1
        if self.calls > self.budget.calls:
            raise _over(f"made more than {self.budget.calls:,} calls", "calls")
        self.tick()

    def too_much_output(self) -> BudgetExceeded:
        return _over(f"output longer than {self.budget.output:,} characters", "output")

    def token(self) -> None:
        self.tokens += 1
        if self.tokens > self.budget.tokens:
            raise _over(f"more than {self.budget.tokens:,} tokens in the template", "tokens")
        self.tick()

    # --- numbers and formats -----------------------------------------------------------

    def number(self, value: int) -> None:
        if value.bit_length() > self.budget.int_bits:
            raise _over(f"a number larger than {self.budget.int_bits} bits", "int_bits")

    def power(self, base: int, exponent: int) -> None:
        """Refuse ``base ** exponent`` (integers) when the result would be too large."""
        self.number(base)
        self.number(exponent)
        bits = exponent * math.log2(abs(base)) if exponent > 0 and abs(base) > 1 else 0
        if bits > self.budget.int_bits:
            raise _over(f"a number larger than {self.budget.int_bits} bits", "int_bits")

    def product(self, left: int, right: int) -> None:
        """Refuse ``left * right`` (integers) when the result would be too large."""
        if left.bit_length() + right.bit_length() > self.budget.int_bits + 1:
            raise _over(f"a number larger than {self.budget.int_bits} bits", "int_bits")

    def widths(self, numbers: Iterable[str]) -> int:
        """The largest of the widths and precisions of a format (refused above the
        budget's width)."""
        largest = 0
        for digits in numbers:
            if len(digits) > 9 or int(digits) > self.budget.width:
                raise _over(f"a width or precision larger than {self.budget.width:,}", "width")
            largest = max(largest, int(digits))
        return largest


_PRINTF = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d*))?[hlL]?(.)", re.DOTALL)
_DIGITS = re.compile(r"\d+")


@lru_cache(maxsize=256)
def _printf_shape(template: str) -> tuple[int, tuple[str, ...], bool]:
    """(conversions, widths and precisions, whether one is ``*``) of a ``%`` format."""
    count, star = 0, False
    numbers: list[str] = []
    for match in _PRINTF.finditer(template):
        width, precision, _ = match.groups()
        star = star or width == "*" or precision == "*"
        numbers.extend(n for n in (width, precision) if n and n != "*")
        count += 1
    return count, tuple(numbers), star


def printf_fields(meter: Meter, template: str) -> tuple[int, int]:
    """(number of conversions, largest width) of a ``%`` format; ``*`` widths (taken from
    the arguments) are refused."""
    shape = _printf_shape if len(template) <= 1024 else _printf_shape.__wrapped__
    count, numbers, star = shape(template)
    if star:
        raise _over("a width or precision taken from the arguments ('*')", "width")
    return count, meter.widths(numbers)


def format_spec_width(meter: Meter, spec: str) -> int:
    """The largest number in a ``str.format`` spec; nested fields in specs are refused."""
    if "{" in spec:
        raise _over("a width or precision taken from the arguments (nested field)", "width")
    return meter.widths(_DIGITS.findall(spec))


_CURRENT: ContextVar[Meter | None] = ContextVar("sendrail_template_meter", default=None)


def current() -> Meter:
    """The meter of the compile or render under way in this thread."""
    meter = _CURRENT.get()
    if meter is None:
        raise RuntimeError("templates run through sendrail.domain.templates only")
    return meter


def activate(meter: Meter) -> Callable[[], None]:
    """Make ``meter`` the current one; returns the function that puts the previous back."""
    token = _CURRENT.set(meter)
    return lambda: _CURRENT.reset(token)
