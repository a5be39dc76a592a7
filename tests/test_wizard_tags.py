"""The step page's template tags that work something out once: the same output as the plain
way, and never the output of another step, registry or script prefix."""

from __future__ import annotations

import dataclasses

from django.template.loader import render_to_string
from django.urls import reverse, set_script_prefix

from wizard import steps
from wizard.steps import Instruction, Section
from wizard.templatetags.wizard_tags import (
    cached_htmx_script,
    cached_url,
    step_heading,
    step_instructions,
)


def test_cached_url_is_reverse_for_any_prefix() -> None:
    code = "0b7e5f4e-95a4-4c1a-9d2b-6a0c8f3f1e11"
    assert cached_url("wizard:step", code, "account") == reverse(
        "wizard:step", args=[code, "account"]
    )
    try:
        set_script_prefix("/wizard/")
        assert cached_url("wizard:step", code, "account") == f"/wizard/t/{code}/account/"
    finally:
        set_script_prefix("/")
    assert cached_url("wizard:step", code, "account") == f"/t/{code}/account/"


def test_instructions_are_the_templates_output_for_each_branch(settings) -> None:
    settings.DEBUG = False
    step = steps.STEPS_BY_KEY["account"]
    for branch in ("", "new", "existing"):
        sections = step.sections_for(branch) if branch else step.sections
        plain = render_to_string(
            "wizard/_instructions.html", {"sections": sections, "branch": branch}
        )
        assert step_instructions(step, branch) == plain
    assert step_instructions(step, "new") != step_instructions(step, "existing")


def test_another_step_under_the_same_key_gets_its_own_instructions(settings) -> None:
    """A registry built in a test (or a reload) brings new Step objects: never the old text."""
    settings.DEBUG = False
    step = steps.STEPS_BY_KEY["account"]
    assert "Reworded for this test" not in step_instructions(step, "")
    reworded = dataclasses.replace(
        step, sections=(Section("Reworded", (Instruction("Reworded for this test"),)),)
    )
    assert "Reworded for this test" in step_instructions(reworded, "")
    assert "Reworded for this test" not in step_instructions(step, "")


def test_cached_url_prints_as_url_does_with_characters_to_escape() -> None:
    """Escaped once, when kept: the page shows exactly what {% url %} shows, never "&amp;amp;"."""
    from django.template import engines

    html = engines["django"].from_string(
        "{% load wizard_tags %}{% url 'invitation_accept' token %}|"
        "{% cached_url 'invitation_accept' token %}|{% cached_url 'invitation_accept' token %}"
    )
    plain, kept, again = html.render({"token": "a&b'c"}).split("|")
    assert "a&amp;b&#x27;c" in plain
    assert kept == again == plain


def test_cached_htmx_script_is_django_htmx_tag_in_and_out_of_debug(settings) -> None:
    from django.template import engines

    def plain() -> str:
        return engines["django"].from_string("{% load django_htmx %}{% htmx_script %}").render({})

    for debug in (False, True):
        settings.DEBUG = debug
        assert cached_htmx_script() == plain()
    assert "django-htmx" in cached_htmx_script()  # DEBUG's own script, not the kept one
    settings.DEBUG = False
    assert "django-htmx" not in cached_htmx_script()


def test_heading_is_the_templates_output_and_follows_the_number(settings) -> None:
    settings.DEBUG = False
    step = dataclasses.replace(steps.STEPS_BY_KEY["account"], title="Tom & <Jerry>")
    old = _render(
        '<p class="eyebrow">Step {{ number }} of {{ count }} · {{ step.phase }}</p>\n'
        '    <h1 id="step-title">{{ step.title }}</h1>\n'
        '    <p class="lead">{{ step.summary }}</p>\n'
        '    <p class="why"><strong>Why:</strong> {{ step.why }}</p>',
        step=step,
        number=1,
        count=6,
    )
    assert step_heading(step, 1, 6) == old
    assert "Tom &amp; &lt;Jerry&gt;" in old
    # A registry of seven steps (or this step moved) renumbers it; the same Step object kept.
    assert "Step 2 of 7 ·" in step_heading(step, 2, 7)
    assert "Step 1 of 6 ·" in step_heading(step, 1, 6)
    reworded = dataclasses.replace(step, title="Reworded for this test")
    assert "Reworded for this test" in step_heading(reworded, 1, 6)
    assert "Reworded for this test" not in step_heading(step, 1, 6)


# The rows the step page builds in Python (ADR 0013) against the template markup they replace,
# byte for byte, with values that need escaping.
HOSTILE = "<b>\"Tom\" & 'Jerry'</b>"

OLD_NAV = (
    "{% for s in overview.steps %}"
    '\n      <li class="nav-step state-{{ s.state }}'
    '{% if s.step.key == step.key %} current{% endif %}">'
    "\n        <a href=\"{% url 'wizard:step' tenant.code s.step.key %}\" "
    'id="nav-step-{{ s.number }}"'
    '{% if s.step.key == step.key %} aria-current="step"{% endif %}>'
    '\n          <span class="num" aria-hidden="true">{{ s.number }}</span>'
    '\n          <span class="label">{{ s.step.title }}'
    "{% if s.step.optional %} <small>(optional)</small>{% endif %}</span>"
    '\n          <span class="badge badge-{{ s.state }}">{{ s.state_label }}</span>'
    "\n        </a>"
    "\n      </li>"
    "\n    {% endfor %}"
)

OLD_CHECKLIST = (
    "{% for item, ticked in rows %}"
    '\n      <div class="check">'
    '\n        <input type="checkbox" name="checklist" value="{{ item.id }}" '
    'id="id_checklist_{{ forloop.counter0 }}"{% if ticked %} checked{% endif %}'
    "\n               hx-post=\"{% url 'wizard:checklist' tenant.code step.key %}\" "
    'hx-trigger="change" hx-include="this"'
    """\n               hx-vals='{"item": "{{ item.id }}"}' hx-swap="none">"""
    '\n        <label for="id_checklist_{{ forloop.counter0 }}">{{ item.text }}</label>'
    "\n      </div>{% endfor %}"
)

OLD_RADIOS = (
    '{% for radio in field %}<div class="radio">{{ radio.tag }} '
    '<label for="{{ radio.id_for_label }}">'
    "{{ radio.choice_label }}</label></div>{% endfor %}"
)


def _render(source: str, **context: object) -> str:
    from django.template import Context, Template

    return Template(source).render(Context(context))


def test_the_navigation_rows_are_the_templates(tenant) -> None:
    from types import SimpleNamespace

    from wizard import selectors
    from wizard.templatetags.wizard_tags import step_nav

    overview = selectors.wizard_overview(tenant)
    hostile = SimpleNamespace(
        steps=[
            SimpleNamespace(
                step=dataclasses.replace(s.step, title=HOSTILE + s.step.title),
                number=s.number,
                state=s.state,
                state_label=s.state_label,
            )
            for s in overview.steps
        ]
    )
    for view in (overview, hostile):
        for current in steps.STEPS:
            old = _render(OLD_NAV, overview=view, tenant=tenant, step=current)
            assert step_nav(view, tenant, current) == old  # type: ignore[arg-type]
    assert "&lt;b&gt;&quot;Tom&quot; &amp; &#x27;Jerry&#x27;&lt;/b&gt;" in step_nav(
        hostile,  # type: ignore[arg-type]
        tenant,
        steps.STEPS[0],
    )


def test_the_checklist_rows_are_the_templates(tenant) -> None:
    from types import SimpleNamespace

    from wizard.templatetags.wizard_tags import checklist_rows

    step = steps.STEPS_BY_KEY["security-level"]
    items = [*step.checklist, SimpleNamespace(id="x-<id>\"'", text=HOSTILE)]
    for ticks in ((), (0,), (0, len(items) - 1)):
        rows = [(item, n in ticks) for n, item in enumerate(items)]
        old = _render(OLD_CHECKLIST, rows=rows, tenant=tenant, step=step)
        assert checklist_rows(rows, tenant, step) == old


def test_the_radio_rows_are_the_templates() -> None:
    from django import forms

    from wizard.templatetags.wizard_tags import radio_rows

    class Form(forms.Form):
        choice = forms.ChoiceField(
            choices=[("a", HOSTILE), ("b&c", "Plain")],
            widget=forms.RadioSelect(attrs={"data-x": HOSTILE}),
        )

    for form in (Form(), Form({"choice": "b&c"}), Form({"choice": "nonsense"}), Form(prefix="p")):
        field = form["choice"]
        assert radio_rows(field) == _render(OLD_RADIOS, field=field)


def test_cached_static_is_static_and_follows_the_settings(settings) -> None:
    from django.templatetags.static import static

    from wizard.templatetags.wizard_tags import cached_static

    assert cached_static("css/app.css") == static("css/app.css")
    settings.STATIC_URL = "/assets/v2/"
    assert cached_static("css/app.css") == static("css/app.css") == "/assets/v2/css/app.css"


def test_list_items_are_the_templates() -> None:
    from wizard.templatetags.wizard_tags import list_items

    values = ["Tick the 2 remaining checklist items.", HOSTILE, 3]
    old = _render("{% for b in values %}<li>{{ b }}</li>{% endfor %}", values=values)
    assert list_items(values) == old
    assert list_items([]) == ""
