"""Hostile templates (issue 12): every compile and render is held to a budget, refused
quickly with a clear :class:`BudgetExceeded`, while merge tags stay useful."""

import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sendrail.domain import templates
from sendrail.domain.template_budget import DEFAULT, Meter, activate
from sendrail.domain.template_sandbox import Sandbox
from sendrail.domain.templates import Budget, BudgetExceeded, TemplateError

BIG = "{% set s = 'x'|center(900000) %}"  # one value just under the 1,000,000 budget
# The same limits, with time enough that a busy machine never decides which one is met.
ROOMY = Budget(seconds=120)
NESTED = "{% for i in range(100000) %}{% for j in range(40) %}.{% endfor %}{% endfor %}"

# (template, the budget field it breaks): each is refused by ``check``, at save time.
ATTACKS = [
    # Arithmetic: never folded at compile time, refused before it is computed.
    ("{{ (7 ** 8000000) % 10 }}", "int_bits"),
    ("{{ 9**9**9 }}", "int_bits"),  # Jinja2's ** groups left: (9 ** 9) ** 9, 258 bits
    ("{{ 9 ** (9 ** 9) }}", "int_bits"),
    ("{{ 10 ** 4400 }}", "int_bits"),
    ("{{ 2 ** 200 * 2 ** 200 }}", "int_bits"),
    ("{{ " + "9" * 4000 + " + 1 }}", "int_bits"),
    # Loops, nested and empty-bodied.
    (NESTED, "iterations"),
    ("{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}", "iterations"),
    ("{% for i in range(100001) %}{% endfor %}", "iterations"),
    ("{% for c in 'ab' * 400 %}{% for d in 'ab' * 400 %}{% endfor %}{% endfor %}", "iterations"),
    # Repetition, concatenation, formatting.
    ("{{ 'x' * 1000000000 }}", "output"),
    ("{{ ['x'] * 1000000000 }}", "output"),
    ("{{ 1000000000 * 'x' }}", "output"),
    (BIG + "{{ s + s }}", "output"),
    (BIG + "{{ s ~ s }}", "output"),
    (BIG + "{{ [s, s, s] }}", "output"),
    (BIG + "{{ [s, s, s]|join }}", "output"),
    (BIG + "{{ s.join(['a', 'b', 'c']) }}", "output"),
    (BIG + "{{ ','.join([s, s]) }}", "output"),
    (BIG + "{{ '%s%s' % (s, s) }}", "output"),
    (BIG + "{{ '{0}{0}'.format(s) }}", "output"),
    ("{{ '%0999999999d' % 1 }}", "width"),
    ("{{ '%.999999999f' % 1 }}", "width"),
    ("{{ '%*d' % (999999999, 1) }}", "width"),
    ("{{ '%0999999999d'|format(1) }}", "width"),
    ("{{ '{:>999999999}'.format(1) }}", "width"),
    ("{{ '{:>{w}}'.format(1, w=999999999) }}", "width"),
    ("{{ '{0:>999999999}'.format_map({}) }}", "width"),
    # Filters and methods that pad, repeat or replace.
    ("{{ 'x'|center(1000000000) }}", "output"),
    ("{{ ('\n' * 100000)|indent(100000) }}", "output"),
    ("{{ ('x'|center(100000))|replace(' ', 'y' * 30) }}", "output"),
    ("{{ ('x' * 1000)|replace('', 'y' * 1000) }}", "output"),
    ("{{ [1]|batch(1000000000, 'x')|list }}", "iterations"),
    ("{{ [1]|slice(1000000000)|list }}", "iterations"),
    ("{{ range(100000)|list|tojson(indent=1000) }}", "output"),
    ("{{ ('x '|center(500000))|wordwrap(1) }}", "output"),
    ("{{ ('x '|center(500000))|urlize }}", "output"),
    ("{{ 'x'.ljust(1000000000) }}", "output"),
    ("{{ 'x'.zfill(1000000000) }}", "output"),
    ("{{ ('\t' * 100000).expandtabs(100000) }}", "output"),
    ("{{ (1).to_bytes(1000000000, 'big') }}", "output"),
    ("{{ ('x' * 1000).translate({120: 'y' * 10000}) }}", "output"),
    ("{{ (('x'|center(1000)).split('x') * 900)|join('y' * 1000) }}", "output"),
    # Building up with {% set %}: namespaces, blocks, repeated outputs.
    (
        "{% set ns = namespace(a='xx') %}"
        "{% for i in range(40) %}{% set ns.a = ns.a ~ ns.a %}{% endfor %}",
        "output",
    ),
    (
        "{% set ns = namespace(a=[]) %}"
        "{% for i in range(100000) %}{% set ns.a = ns.a + [i] %}{% endfor %}",
        "work",
    ),
    ("{% set x %}{% for i in range(100000) %}" + "y" * 10000 + "{% endfor %}{% endset %}", "work"),
    (BIG + "{% set x %}{% for i in range(20) %}{{ s }}{% endfor %}{% endset %}", "work"),
    (
        BIG + "{% macro m() %}{{ s }}{% endmacro %}"
        "{% set x %}{% for i in range(20) %}{{ m() }}{% endfor %}{% endset %}",
        "work",
    ),
    # Output, counted as it streams.
    ("{% for i in range(50000) %}" + "z" * 40 + "{% endfor %}", "output"),
    (BIG + "{% for i in range(20) %}{{ s }}{% endfor %}", "output"),
    (BIG + "{{ s }}{{ s }}", "output"),
    # Compile: the source's size in tokens.
    ("{{ x }}" * 30000, "tokens"),
    ("{{ " + "a+" * 20000 + "a }}", "tokens"),
]


@pytest.mark.parametrize(("source", "limit"), ATTACKS, ids=range(len(ATTACKS)))
def test_given_a_hostile_template_then_saving_it_is_refused_by_its_budget(source, limit):
    with pytest.raises(BudgetExceeded) as info:
        templates.check(source, budget=ROOMY)
    assert info.value.limit == limit
    assert str(info.value).startswith("over budget: ")


@pytest.mark.parametrize(("source", "limit"), ATTACKS[:12], ids=range(12))
def test_given_a_hostile_template_then_rendering_it_fails_with_the_same_reason(source, limit):
    with pytest.raises(BudgetExceeded) as info:
        templates.render(source, {"first_name": "Ann"}, html=True, budget=ROOMY)
    assert info.value.limit == limit


def test_given_the_issue_examples_then_the_messages_say_what_went_over():
    with pytest.raises(BudgetExceeded, match="a number larger than 256 bits"):
        templates.check("Hi {{ (7 ** 8000000) % 10 }}", budget=ROOMY)
    with pytest.raises(BudgetExceeded, match="loops ran more than 100,000 times"):
        templates.render(
            "{% for i in range(100000) %}{% for j in range(40) %}{{ i }}{% endfor %}{% endfor %}",
            {},
            budget=ROOMY,
        )


EXPONENTIAL = (
    "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(depth) }}"
)


def test_given_exponential_macro_recursion_from_data_then_its_calls_are_counted():
    templates.check(EXPONENTIAL)  # nothing to refuse without data: depth is blank
    assert templates.render(EXPONENTIAL, {"depth": 3}) == ""
    with pytest.raises(BudgetExceeded) as info:
        templates.render(EXPONENTIAL, {"depth": 60}, budget=ROOMY)
    assert info.value.limit == "calls"
    assert str(info.value) == "over budget: made more than 100,000 calls"


def test_given_work_with_no_end_then_the_deadline_stops_it():
    with pytest.raises(BudgetExceeded) as info:
        templates.render(EXPONENTIAL, {"depth": 60}, budget=Budget(seconds=0.05, calls=10**12))
    assert info.value.limit == "seconds"
    assert str(info.value) == "over budget: took longer than 0.05 s"


@pytest.mark.parametrize(
    "source",
    [
        "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
        "{% for x in [1, 2] recursive %}{{ loop([1, 2]) }}{% endfor %}",
    ],
)
def test_given_endless_recursion_then_it_is_a_template_error(source):
    with pytest.raises(TemplateError, match="nested too deeply"):
        templates.render(source, {})


def test_given_recursive_loops_then_their_inner_iterations_are_counted_too():
    source = (
        "{% for x in items recursive %}{% if loop.depth < 4 %}{{ loop(items) }}"
        "{% endif %}{% endfor %}"
    )
    with pytest.raises(BudgetExceeded) as info:
        templates.render(source, {"items": list(range(100))}, budget=ROOMY)
    assert info.value.limit == "iterations"


def test_given_no_lipsum_and_numbers_only_for_sum_then_those_calls_fail_safely():
    with pytest.raises(TemplateError):
        templates.render("{{ lipsum(1000000000) }}", {})
    with pytest.raises(TemplateError, match="sum adds numbers only"):
        templates.render("{{ range(100000)|batch(1)|sum(start=[]) }}", {})


@pytest.mark.parametrize(
    "source",
    [
        "{% if a %}" * 2000 + "{% endif %}" * 2000,  # the parser's recursion
        "{% for a in b %}" * 30 + "{% endfor %}" * 30,  # Python's nested blocks limit
        "{{ " + "9" * 5000 + " }}",  # Python's digit limit
        "{{ " + "(" * 5000 + "a" + ")" * 5000 + " }}",
    ],
    ids=["ifs", "fors", "digits", "parens"],
)
def test_given_a_source_jinja_or_python_cannot_compile_then_it_is_a_template_error(source):
    with pytest.raises(TemplateError):
        templates.check(source)


@pytest.mark.parametrize(
    ("source", "kept"),
    [
        ("{{ 7 ** 8000000 }}", "call_binop"),
        ("{{ 2 + 3 }}", "call_binop"),
        ("{{ 'x' * 10 }}", "call_binop"),
        ("{{ 'x'|center(1000000000) }}", "center"),
        ("{{ 'x'|replace('x', 'yy') }}", "replace"),
    ],
)
def test_given_constant_expressions_then_nothing_is_computed_at_compile_time(source, kept):
    """Jinja2 folds constants while compiling unless the operator is intercepted and the
    filter needs the context: the generated code still holds the operation."""
    restore = activate(Meter(DEFAULT))
    try:
        code = Sandbox(autoescape=False).compile(source, raw=True)
    finally:
        restore()
    assert kept in code


def test_given_a_budget_then_each_of_its_limits_applies():
    loop = "{% for i in range(150) %}abc{% endfor %}" * 2
    assert len(templates.render(loop, {}, budget=Budget(output=900))) == 900
    with pytest.raises(BudgetExceeded, match="output longer than 899 characters"):
        templates.render(loop, {}, budget=Budget(output=899))
    with pytest.raises(BudgetExceeded, match="loops ran more than 299 times"):
        templates.render(loop, {}, budget=Budget(iterations=299))
    with pytest.raises(BudgetExceeded, match="builds more than 500 characters"):
        templates.render(loop, {}, budget=Budget(work=500))
    with pytest.raises(BudgetExceeded, match="larger than 64 bits"):
        templates.render("{{ 2 ** 65 }}", {}, budget=Budget(int_bits=64))
    assert templates.render("{{ '%8.2f'|format(3.14159) }}", {}, budget=Budget(width=8)) == (
        "    3.14"
    )
    with pytest.raises(BudgetExceeded, match="width or precision larger than 8"):
        templates.render("{{ '%9.2f'|format(3.14159) }}", {}, budget=Budget(width=8))
    with pytest.raises(BudgetExceeded, match="more than 10 tokens"):
        templates.check("{{ a }}{{ b }}{{ c }}{{ d }}", budget=Budget(tokens=10))


def test_given_a_template_that_needs_data_then_check_accepts_it():
    # Without recipient data these fail (a division by a missing value): not the budget.
    templates.check("{{ 100 / count }}")
    templates.check("{% for p in products %}{{ p.name }}{% endfor %}")


def test_given_renders_in_several_threads_then_budgets_do_not_mix():
    """The dispatcher renders in worker threads: one thread's hostile template neither
    stops nor borrows the budget of another's."""
    good = "{% for p in products %}{{ p.name|upper }};{% endfor %}"
    data = {"products": [{"name": f"p{i}"} for i in range(50)]}
    expected = "".join(f"P{i};" for i in range(50))
    results: list[object] = []
    lock = threading.Lock()

    def render(source: str) -> None:
        for _ in range(20):
            try:
                out: object = templates.render(source, data, budget=ROOMY)
            except BudgetExceeded as exc:
                out = exc.limit
            with lock:
                results.append(out)

    threads = [
        threading.Thread(target=render, args=(source,))
        for source in (good, NESTED, good, BIG + "{{ s ~ s }}")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(map(str, results)) == sorted(
        [expected] * 40 + ["iterations"] * 20 + ["output"] * 20
    )


# --- merge tags stay useful ------------------------------------------------------------

RECIPIENT = {
    "first_name": "ann",
    "plan": "pro",
    "orders": [
        {"sku": "a-1", "name": "red shoes", "price": 19.5, "qty": 2},
        {"sku": "b-2", "name": "blue hat", "price": 9, "qty": 1},
    ],
    "tags": ["new", "vip"],
    "tree": [{"name": "a", "children": [{"name": "a1", "children": []}]}],
}

USEFUL = [
    ("Hi {{ first_name|title }}!", "Hi Ann!"),
    ("{{ missing|default('friend') }}", "friend"),
    ("{% if plan == 'pro' %}20% off{% else %}upgrade{% endif %}", "20% off"),
    (
        "{% for o in orders %}{{ loop.index }}/{{ loop.length }} {{ o.name }};{% endfor %}",
        "1/2 red shoes;2/2 blue hat;",
    ),
    ("{{ orders|map(attribute='sku')|join(', ') }}", "a-1, b-2"),
    ("{{ orders|sum(attribute='price') }}", "28.5"),
    ("{% for o in orders %}{{ '%.2f'|format(o.price * o.qty) }} {% endfor %}", "39.00 9.00 "),
    ("{{ '{:,.2f}'.format(1234567.891) }}", "1,234,567.89"),
    ("{{ orders|selectattr('qty', 'gt', 1)|map(attribute='name')|first }}", "red shoes"),
    ("{{ tags|length }} {{ tags|sort|reverse|join('+') }}", "2 vip+new"),
    ("{{ '-' * 10 }}", "----------"),
    ("{{ (tags + ['x'])|join }}", "newvipx"),
    ("{{ 2 ** 10 }} {{ 7 // 2 }} {{ 7 % 3 }} {{ -3 + 1 }}", "1024 3 1 -2"),
    ("{{ first_name ~ '@' ~ plan }}", "ann@pro"),
    (
        "{% set ns = namespace(total=0) %}{% for o in orders %}{% set ns.total = ns.total"
        " + o.qty %}{% endfor %}{{ ns.total }}",
        "3",
    ),
    (
        "{% macro item(o) %}<{{ o.sku }}>{% endmacro %}{% for o in orders %}{{ item(o) }}"
        "{% endfor %}",
        "<a-1><b-2>",
    ),
    ("{% for n in tree recursive %}{{ n.name }}({{ loop(n.children) }}){% endfor %}", "a(a1())"),
    ("{{ 'hello world'|wordwrap(5) }}", "hello\nworld"),
    ("{{ first_name|center(7) }}|", "  ann  |"),
    ("{{ orders|map(attribute='name')|map('upper')|list }}", "['RED SHOES', 'BLUE HAT']"),
    ("{% for i in range(3) %}{{ i }}{% endfor %}", "012"),
    ("{{ {'a': 1}|tojson }}", '{"a": 1}'),
    ("{{ 'x'.ljust(3, '.') }}{{ 'a b'.replace(' ', '_') }}", "x..a_b"),
]


@pytest.mark.parametrize(("source", "expected"), USEFUL, ids=range(len(USEFUL)))
def test_given_ordinary_merge_tags_then_they_render_as_before(source, expected):
    templates.check(source)
    assert templates.render(source, RECIPIENT) == expected


def test_given_html_then_values_are_still_escaped_under_the_budget():
    out = templates.render("<b>{{ x }}</b>{{ x ~ '!' }}", {"x": "<i>"}, html=True)
    assert out == "<b>&lt;i&gt;</b>&lt;i&gt;!"


# --- a property: whatever the sizes, a render stays within its budget --------------------

SMALL = Budget(seconds=5, output=5_000, work=40_000, iterations=2_000)
_PIECES = [
    "{{{{ 'ab' * {a} }}}}",
    "{{{{ ['ab'] * {a} }}}}",
    "{{{{ 'x'|center({a}) }}}}",
    "{{{{ 'x'.rjust({a}) }}}}",
    "{{{{ {a} ** {b} }}}}",
    "{{{{ {a} * {b} * {a} }}}}",
    "{{{{ '%{a}d' % {b} }}}}",
    "{{{{ '{{:>{a}}}'.format({b}) }}}}",
    "{{% for i in range({a}) %}}{{% for j in range({b}) %}}.{{% endfor %}}{{% endfor %}}",
    "{{% set ns = namespace(s='ab') %}}{{% for i in range({b}) %}}"
    "{{% set ns.s = ns.s ~ ns.s %}}{{% endfor %}}{{{{ ns.s|length }}}}",
    "{{{{ range({a})|map('string')|join('-' * {b}) }}}}",
    "{{{{ ('y' * {a})|replace('y', 'zz' * {b}) }}}}",
    "{{{{ ('a\\n' * {a})|indent({b}) }}}}",
]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from(_PIECES), min_size=1, max_size=4),
    st.integers(min_value=0, max_value=10**12),
    st.integers(min_value=0, max_value=10**6),
)
def test_given_any_mix_of_size_making_pieces_then_a_render_never_exceeds_its_budget(pieces, a, b):
    source = "".join(piece.format(a=a % 10 ** (1 + a % 12), b=b) for piece in pieces)
    try:
        out = templates.render(source, {}, budget=SMALL)
    except TemplateError:
        return  # refused: fine
    assert len(out) <= SMALL.output
