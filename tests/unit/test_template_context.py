"""Each render's context is built from the template's globals flattened once per template
(jinja flattens their ChainMap twice on every render): the same names, the same output."""

import pytest
from jinja2 import Template
from sendrail.domain import templates
from sendrail.domain.template_budget import DEFAULT, Meter, activate
from sendrail.domain.template_sandbox import render_template, template_globals

SOURCES = [
    "Hello {{ first_name }}",
    "{% for i in range(3) %}{{ i }}{% endfor %}",
    "{% set ns = namespace(n=0) %}{% for x in items %}{% set ns.n = ns.n + x %}{% endfor %}"
    "{{ ns.n }}",
    "{{ dict(a=1)['a'] }} {{ missing }}|{{ first_name | upper }}",
    "{% if range is defined %}globals seen{% endif %}",
]


def former_render(template: Template, data: dict[str, object]) -> str:
    """How a render built its context before: jinja's own ``new_context``."""
    restore = activate(Meter(DEFAULT))
    try:
        return "".join(template.root_render_func(template.new_context(data)))
    finally:
        restore()


@pytest.mark.parametrize("source", SOURCES)
def test_given_templates_using_globals_then_output_is_jinjas_own(source: str) -> None:
    template = templates._template(source, False, DEFAULT)
    data = {"first_name": "Ann", "items": [1, 2, 3]}
    assert render_template(template, data, DEFAULT) == former_render(template, data)


def test_given_many_renders_then_the_globals_are_flattened_once_per_template() -> None:
    template = templates._template("Hi {{ first_name }} {{ range(2) | list }}", False, DEFAULT)
    template_globals.cache_clear()
    for name in ("Ann", "Bob", "Cy"):
        assert render_template(template, {"first_name": name}, DEFAULT) == f"Hi {name} [0, 1]"
    assert template_globals.cache_info().misses == 1
    assert template_globals(template) == dict(template.globals)
