"""The Jinja2 sandbox merge tags run in, held to a :class:`~template_budget.Budget`.

Jinja2's ``ImmutableSandboxedEnvironment`` keeps templates away from Python's internals;
this module adds the budget, at every place a template can spend time or build text:

- compile: each token of the source counts (an extension over the token stream), so a
  compile is bounded; operators are intercepted and filters take the context, which tells
  Jinja2 never to fold them into constants at compile time (``nodes.BinExpr.as_const``,
  ``_FilterTestCommon.as_const``): ``{{ 7 ** 8000000 }}`` costs nothing until rendered.
- operators (``+ - * / // % **``): numbers above the budget's bits are refused, and so is
  a repetition, concatenation or ``%`` format whose result would be too long, before it
  is computed; ``~`` (concatenation) likewise.
- loops: every ``{% for %}`` iterates through a counter (its body's literal text counts as
  built each time), ``loop(...)`` of recursive loops too; ``range`` is capped.
- calls (macros, methods, globals) and filters: the deadline is checked, widths and sizes
  predicted where a single call could build a lot (``center``, ``indent``, ``replace``,
  ``format``, ``join``, ``str.ljust`` …), and what they return is counted.
- output: every ``{{ value }}`` is counted as it is made, and the rendered stream as it is
  produced.

Imported on first use (by ``templates``): a dispatch run with nothing to send never loads
Jinja2."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from string import Formatter
from types import BuiltinMethodType
from typing import Any

from jinja2 import Template, TemplateSyntaxError, Undefined, nodes, pass_context
from jinja2.compiler import CodeGenerator, Frame
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream
from jinja2.runtime import Context, LoopContext, new_context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import Namespace

from sendrail.domain.template_budget import (
    Budget,
    BudgetExceeded,
    Meter,
    TemplateError,
    activate,
    current,
    format_spec_width,
    printf_fields,
)

LOOP_FILTER = "sendrail_counted_loop"
SLOW_FILTER_INPUT = 100_000  # characters: wordwrap and urlize work in Python, per word
_SMALL = (float, complex, bool, type(None))


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


# --- sizes ------------------------------------------------------------------------------


def weight(value: Any, limit: int) -> int:
    """About how many characters turning ``value`` into text (or joining, or iterating it)
    builds: containers count every element each time it appears, so a list holding the
    same long string a thousand times weighs a thousand of them. Stops counting once over
    ``limit``."""
    kind = type(value)
    if kind is str or kind is bytes:
        return len(value)
    if kind is int:
        return int(value.bit_length() // 3 + 2)
    total = 0
    stack = [value]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, (str, bytes)):
            total += len(item)
        elif isinstance(item, (list, tuple, set, frozenset, dict)):
            if isinstance(item, dict):
                total += 2 * len(item)
                elements: Iterable[Any] = (*item.keys(), *item.values())
            else:
                elements = item
            total += 2 * len(item) + 2
            for element in elements:  # the common elements inline: no stack round trip
                kind = type(element)
                if kind is str:
                    total += len(element)
                elif kind is int:
                    total += element.bit_length() // 3 + 2
                else:
                    stack.append(element)
        elif isinstance(item, int) and not isinstance(item, bool):
            total += item.bit_length() // 3 + 2
        elif isinstance(item, _SMALL):
            total += 24
        elif isinstance(item, range):
            total += 8 * len(item)
        elif isinstance(item, Namespace):
            total += 12
            stack.append(object.__getattribute__(item, "_Namespace__attrs"))
        else:
            total += 32
    return total


def _weight(meter: Meter, value: Any) -> int:
    return weight(value, meter.max_value)


def produced(meter: Meter, value: Any) -> Any:
    """Count what a step returned; an iterator is counted item by item as it is used."""
    if isinstance(value, (str, bytes)):
        meter.spend(len(value))
    elif isinstance(value, int) and not isinstance(value, bool):
        meter.number(value)
    elif isinstance(value, (list, tuple, dict, set, frozenset)):
        meter.spend(_weight(meter, value))
    elif isinstance(value, Iterator) and not isinstance(value, (_Counted, LoopContext)):
        return _Counted(value)
    return value


class _Counted:
    """An iterator a filter returned (``map``, ``select``, ``batch`` …), each item counted."""

    __slots__ = ("_items",)

    def __init__(self, items: Iterator[Any]) -> None:
        self._items = items

    def __iter__(self) -> _Counted:
        return self

    def __next__(self) -> Any:
        item = next(self._items)
        meter = current()
        meter.tick()
        return produced(meter, item)


class _Loop:
    """What a ``{% for %}`` iterates: the original iterable, each step counted with the
    literal text of the loop's body."""

    __slots__ = ("_iterable", "body")

    def __init__(self, iterable: Any, body: int) -> None:
        self._iterable = iterable
        self.body = body

    def __len__(self) -> int:  # TypeError when the iterable has none: LoopContext copes
        return len(self._iterable)

    def __iter__(self) -> Iterator[Any]:
        meter = current()
        body = self.body
        for item in self._iterable:
            meter.iterate(body)
            yield item


@pass_context
def _counted_loop(context: Context, iterable: Any, body: Any) -> _Loop:
    return _Loop(iterable, max(0, _count(body)))  # a template may name this filter too


@pass_context
def _finalize(context: Context, value: Any) -> Any:
    """Every ``{{ value }}``, before it becomes text."""
    meter = current()
    kind = type(value)
    if kind is str:
        meter.spend(len(value))
    elif kind is int:
        meter.number(value)
    else:
        meter.spend(weight(value, meter.max_value))
    return value


def _range(*args: int) -> range:
    meter = current()
    for arg in args:
        if isinstance(arg, int):
            meter.number(arg)
    numbers = range(*args)
    if len(numbers) > meter.budget.iterations:
        raise BudgetExceeded(
            f"over budget: a range of more than {meter.budget.iterations:,} numbers",
            limit="iterations",
        )
    return numbers


# --- predictions for single steps that could build a lot ---------------------------------


def _arg(args: tuple[Any, ...], kwargs: dict[str, Any], index: int, name: str) -> Any:
    if len(args) > index:
        return args[index]
    return kwargs.get(name)


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _replacement(meter: Meter, text: Any, old: Any, new: Any, count: Any) -> None:
    text, old, new = str(text), str(old), str(new)
    found = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    meter.fits(len(text) + found * max(0, len(new) - len(old)))


def _joined(meter: Meter, items: Any, separator: str | bytes) -> Any:
    """``items`` ready to join (an iterator is read into a list first, counted)."""
    if isinstance(items, Iterator):
        items = list(items)
    if isinstance(items, (list, tuple, set, frozenset, dict, range, str, bytes)):
        meter.fits(_weight(meter, items) + len(separator) * len(items))
    return items


def _printf(meter: Meter, template: Any, values: Any) -> None:
    conversions, width = printf_fields(meter, str(template))
    meter.fits(len(str(template)) + conversions * (_weight(meter, values) + width))


def _slow_input(meter: Meter, value: Any, name: str) -> str:
    text = str(value)
    if len(text) > SLOW_FILTER_INPUT:
        raise BudgetExceeded(
            f"over budget: {name} takes at most {SLOW_FILTER_INPUT:,} characters",
            limit="output",
        )
    return text


Precheck = Callable[[Meter, Any, tuple[Any, ...], dict[str, Any]], Any]


def _center(meter: Meter, value: Any, args: tuple[Any, ...], kw: dict[str, Any]) -> Any:
    width = _arg(args, kw, 0, "width")
    meter.fits(max(_weight(meter, value), _count(80 if width is None else width)))
    return value


def _indent(meter: Meter, value: Any, args: tuple[Any, ...], kw: dict[str, Any]) -> Any:
    width = _arg(args, kw, 0, "width")
    step = len(width) if isinstance(width, str) else _count(4 if width is None else width)
    text = str(value)
    meter.fits(len(text) + (text.count("\n") + 2) * step)
    return value


def _wordwrap(meter: Meter, value: Any, args: tuple[Any, ...], kw: dict[str, Any]) -> Any:
    text = _slow_input(meter, value, "wordwrap")
    wrapstring = _arg(args, kw, 2, "wrapstring")
    meter.fits(len(text) * (1 + len(str(wrapstring or "\n"))))
    return value


def _urlize(meter: Meter, value: Any, args: tuple[Any, ...], kw: dict[str, Any]) -> Any:
    text = _slow_input(meter, value, "urlize")
    extra = len(str(_arg(args, kw, 2, "target") or "")) + len(str(_arg(args, kw, 3, "rel") or ""))
    meter.fits(len(text) * (12 + extra))
    return value


def _replace(meter: Meter, value: Any, args: tuple[Any, ...], kw: dict[str, Any]) -> Any:
    old, new = _arg(args, kw, 0, "old"), _arg(args, kw, 1, "new")
    _replacement(meter, value, old or "", new or "", _arg(args, kw, 2, "count"))
    return value


def _format(meter: Meter, value: Any, args: tuple[Any, ...], kw: dict[str, Any]) -> Any:
    _printf(meter, value, kw or args)
    return value


def _count_arg(name: str, index: int) -> Precheck:
    def check(meter: Meter, value: Any, args: tuple[Any, ...], kw: dict[str, Any]) -> Any:
        if _count(_arg(args, kw, index, name)) > meter.budget.iterations:
            raise BudgetExceeded(
                f"over budget: {name} larger than {meter.budget.iterations:,}",
                limit="iterations",
            )
        return value

    return check


def _tojson(meter: Meter, value: Any, args: tuple[Any, ...], kw: dict[str, Any]) -> Any:
    indent = _arg(args, kw, 0, "indent")
    step = len(indent) if isinstance(indent, str) else _count(indent)
    meter.fits(_weight(meter, value) * (1 + step))
    return value


def _join(meter: Meter, value: Any, args: tuple[Any, ...], kw: dict[str, Any]) -> Any:
    return _joined(meter, value, str(_arg(args, kw, 0, "d") or ""))


def _sum(meter: Meter, value: Any, args: tuple[Any, ...], kw: dict[str, Any]) -> Any:
    start = _arg(args, kw, 1, "start")
    if start is not None and not isinstance(start, (int, float)):
        raise TemplateError("sum adds numbers only")
    return value


_PRECHECKS: dict[str, Precheck] = {
    "center": _center,
    "indent": _indent,
    "wordwrap": _wordwrap,
    "urlize": _urlize,
    "replace": _replace,
    "format": _format,
    "batch": _count_arg("linecount", 0),
    "slice": _count_arg("slices", 0),
    "tojson": _tojson,
    "join": _join,
    "sum": _sum,
}


def _check_inputs(meter: Meter, values: Iterable[Any]) -> None:
    """Nothing handed to a step may be longer, as text, than a value may be."""
    limit = meter.max_value
    for given in values:
        kind = type(given)
        if kind is int or (kind is str and len(given) <= limit):
            continue  # the common cases, without a call
        meter.fits(weight(given, limit))


def _guarded(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """Filter ``func`` held to the budget (and, taking the context, never folded at
    compile time)."""
    passes = getattr(getattr(func, "jinja_pass_arg", None), "name", None)
    precheck = _PRECHECKS.get(name)

    @pass_context
    def guarded(context: Context, value: Any, *args: Any, **kwargs: Any) -> Any:
        meter = current()
        if args or kwargs or type(value) is not str or len(value) > meter.max_value:
            _check_inputs(meter, (value, *args, *kwargs.values()))
        if precheck is not None:
            value = precheck(meter, value, args, kwargs)
        if passes is None:
            result = func(value, *args, **kwargs)
        elif passes == "eval_context":
            result = func(context.eval_ctx, value, *args, **kwargs)
        elif passes == "environment":
            result = func(context.environment, value, *args, **kwargs)
        else:
            result = func(context, value, *args, **kwargs)
        if type(result) is str:
            meter.spend(len(result))
            return result
        return produced(meter, result)

    return guarded


_PADDING = frozenset({"ljust", "rjust", "center", "zfill"})


def _method(
    meter: Meter, method: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Any, ...]:
    """Predict what a method of a string, bytes or number would build; the arguments to
    call it with (``sep.join(iterator)`` reads the iterator first)."""
    owner = getattr(method, "__self__", None)
    if not isinstance(method, BuiltinMethodType) or not isinstance(owner, (str, bytes, int)):
        return args
    name = method.__name__
    if isinstance(owner, int):  # int.to_bytes(length) and the like
        for given in (*args, *kwargs.values()):
            meter.fits(_count(given))
    elif name in _PADDING:
        meter.fits(max(len(owner), _count(_arg(args, kwargs, 0, "width"))))
    elif name == "expandtabs":
        tabs = owner.count("\t") if isinstance(owner, str) else owner.count(b"\t")
        meter.fits(len(owner) + tabs * max(_count(_arg(args, kwargs, 0, "tabsize")), 8))
    elif name == "replace":
        old, new = _arg(args, kwargs, 0, "old"), _arg(args, kwargs, 1, "new")
        _replacement(meter, owner, old, new, _arg(args, kwargs, 2, "count"))
    elif name == "join" and args:
        return (_joined(meter, args[0], owner), *args[1:])
    elif name == "translate":
        meter.fits(len(owner) * max(1, _weight(meter, args[0] if args else None)))
    return args


# --- the environment ----------------------------------------------------------------------


class _TokenBudget(Extension):
    """Counts the tokens of a source as they are parsed: compile time follows them."""

    def filter_stream(self, stream: TokenStream) -> Iterable[Token]:
        meter = current()
        for token in stream:
            meter.token()
            yield token


def _literal_size(loop: nodes.For) -> int:
    return sum(len(data.data) for child in loop.body for data in child.find_all(nodes.TemplateData))


class _Generator(CodeGenerator):
    """Jinja2's code generator, with every loop counted and ``~`` checked."""

    def visit_Template(self, node: nodes.Template, frame: Frame | None = None) -> None:
        for loop in list(node.find_all(nodes.For)):
            lineno = loop.iter.lineno
            loop.iter = nodes.Filter(
                loop.iter,
                LOOP_FILTER,
                [nodes.Const(_literal_size(loop), lineno=lineno)],
                [],
                None,
                None,
                lineno=lineno,
            )
        super().visit_Template(node, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        if frame.eval_ctx.volatile:
            join = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            join = "markup_join"
        else:
            join = "str_join"
        self.write(f"environment.checked_concat({join}, (")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


def _numbers(meter: Meter, *values: Any) -> None:
    for value in values:
        if isinstance(value, int):
            meter.number(value)


def _sequence(value: Any) -> bool:
    return isinstance(value, (str, bytes, list, tuple))


class Sandbox(ImmutableSandboxedEnvironment):
    """One per autoescape mode, shared by every thread (compiling and rendering read it)."""

    code_generator_class = _Generator
    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})

    def __init__(self, autoescape: bool) -> None:
        super().__init__(
            undefined=Blank, autoescape=autoescape, finalize=_finalize, extensions=[_TokenBudget]
        )
        self.globals.pop("lipsum", None)  # lipsum(n) makes n paragraphs in one call
        self.globals["range"] = _range
        for name, func in list(self.filters.items()):
            self.filters[name] = _guarded(name, func)
        self.filters[LOOP_FILTER] = _counted_loop

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        meter = current()
        meter.tick()
        _numbers(meter, left, right)
        if operator == "**" and isinstance(left, int) and isinstance(right, int):
            meter.power(left, right)
        elif operator == "*":
            if isinstance(left, int) and isinstance(right, int):
                meter.product(left, right)
            elif isinstance(right, int) and _sequence(left):
                meter.fits(_weight(meter, left) * right)
            elif isinstance(left, int) and _sequence(right):
                meter.fits(_weight(meter, right) * left)
        elif operator == "+" and _sequence(left):
            meter.fits(_weight(meter, left) + _weight(meter, right))
        elif operator == "%" and isinstance(left, str):
            _printf(meter, left, right)
        return produced(meter, self.binop_table[operator](left, right))

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        meter = current()
        meter.call()
        if isinstance(obj, LoopContext) and args:  # loop(children) in a recursive loop
            body = getattr(getattr(obj, "_iterable", None), "body", 0)
            args = (_Loop(args[0], body), *args[1:])
        for given in (*args, *kwargs.values()):
            meter.fits(_weight(meter, given))
        args = _method(meter, obj, args, kwargs)
        return produced(meter, super().call(context, obj, *args, **kwargs))

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        template = str(value.__self__)
        format_function = wrapped

        def checked(*args: Any, **kwargs: Any) -> str:
            meter = current()
            fields, width = 0, 0
            for _, field, spec, _ in Formatter().parse(template):
                if field is not None:
                    fields += 1
                    width = max(width, format_spec_width(meter, spec or ""))
            meter.fits(len(template) + fields * (_weight(meter, (args, kwargs)) + width))
            text: str = produced(meter, format_function(*args, **kwargs))
            return text

        return checked

    def checked_concat(self, join: Callable[[Any], str], parts: tuple[Any, ...]) -> str:
        """``a ~ b ~ c``: refused before joining when the result would be too long."""
        meter = current()
        meter.fits(_weight(meter, parts))
        joined: str = produced(meter, join(parts))
        return joined


@lru_cache(maxsize=2)
def _sandbox(autoescape: bool) -> Sandbox:
    return Sandbox(autoescape)


def compile_template(source: str, autoescape: bool, budget: Budget) -> Template:
    restore = activate(Meter(budget))
    try:
        return _sandbox(autoescape).from_string(source)
    except TemplateSyntaxError as exc:
        raise TemplateError(f"line {exc.lineno}: {exc.message}", line=exc.lineno) from exc
    except RecursionError as exc:
        raise TemplateError("nested too deeply") from exc
    except TemplateError:
        raise
    except (SyntaxError, ValueError, OverflowError, MemoryError) as exc:
        # What Python's own compiler refuses (too many nested blocks, a literal too long).
        raise TemplateError(f"does not compile: {type(exc).__name__}") from exc
    finally:
        restore()


@lru_cache(maxsize=512)
def template_globals(template: Template) -> dict[str, Any]:
    """The template's globals as one dict, made once per template: ``Template.new_context``
    flattens their ChainMap (the environment's beneath the template's) twice per render,
    key by key, which cost more than rendering a short template itself."""
    return dict(template.globals)


def render_template(template: Template, data: dict[str, Any], budget: Budget) -> str:
    meter = Meter(budget)
    restore = activate(meter)
    try:
        parts: list[str] = []
        size, limit = 0, budget.output
        # What ``template.new_context(data)`` builds, from the globals flattened once.
        context = new_context(
            template.environment,
            template.name,
            template.blocks,
            data,
            False,
            template_globals(template),
            None,
        )
        for chunk in template.root_render_func(context):
            size += len(chunk)
            if size > limit:
                raise meter.too_much_output()
            parts.append(chunk)
        return "".join(parts)
    finally:
        restore()


def merge_tags(source: str, budget: Budget) -> frozenset[str]:
    """The top-level names ``source`` reads from the recipient's data (its undeclared
    variables, Jinja2's ``meta.find_undeclared_variables``), the sandbox's globals aside.
    Raises :class:`TemplateError` when it does not parse."""
    from jinja2 import meta  # noqa: PLC0415

    sandbox = _sandbox(False)
    restore = activate(Meter(budget))
    try:
        tree = sandbox.parse(source)
    except TemplateSyntaxError as exc:
        raise TemplateError(f"line {exc.lineno}: {exc.message}", line=exc.lineno) from exc
    except (RecursionError, SyntaxError, ValueError, OverflowError, MemoryError) as exc:
        raise TemplateError(f"does not parse: {type(exc).__name__}") from exc
    finally:
        restore()
    return frozenset(meta.find_undeclared_variables(tree) - set(sandbox.globals))
