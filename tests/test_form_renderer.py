"""wizard.form_renderer renders the small widget templates in Python: the same HTML as Django's
own templates, for every widget, value and attribute the wizard's forms use, and more."""

from __future__ import annotations

from typing import Any

import pytest
from django import forms
from django.forms.renderers import BaseRenderer, DjangoTemplates
from django.forms.widgets import ChoiceWidget
from django.utils.safestring import mark_safe

from wizard import steps
from wizard.form_renderer import WidgetRenderer
from wizard.forms import form_class_for

FAST, DJANGO = WidgetRenderer(), DjangoTemplates()

VALUES: list[Any] = [None, "", "plain", 0, 42, 'quo"te <b>&amp;', mark_safe("<i>safe</i>")]
ATTRS: list[dict[str, Any]] = [
    {},
    {"id": "id_x"},
    {"id": "id_x", "required": True, "disabled": False, "aria-invalid": "true"},
    {"class": 'a "b" <c>', "data-x": mark_safe("&amp;"), "autocomplete": "off"},
]
WIDGETS = [
    forms.TextInput,
    forms.HiddenInput,
    forms.NumberInput,
    forms.PasswordInput,
    forms.EmailInput,
    forms.URLInput,
]
CHOICES = [("a", "Alpha & <Omega>"), ("b", mark_safe("<em>B</em>")), ("", "None")]


@pytest.mark.parametrize("widget", WIDGETS, ids=[w.__name__ for w in WIDGETS])
def test_inputs_are_djangos_html(widget: type[forms.Widget]) -> None:
    w = widget(attrs={"spellcheck": "false"})
    for value in VALUES:
        for attrs in ATTRS:
            fast = w.render("field", value, attrs, renderer=FAST)
            assert fast == w.render("field", value, attrs, renderer=DJANGO), (value, attrs)


@pytest.mark.parametrize("widget", [forms.RadioSelect, forms.CheckboxSelectMultiple])
def test_radio_buttons_and_checkboxes_are_djangos_html(widget: type[ChoiceWidget]) -> None:
    w = widget(choices=CHOICES)
    for value in (None, "a", ["a", "b"], "zzz"):
        for attrs in ATTRS:
            fast = w.render("choice", value, attrs, renderer=FAST)
            assert fast == w.render("choice", value, attrs, renderer=DJANGO), (value, attrs)


def _every_piece(form: forms.Form) -> list[str]:
    """Everything a step template renders from a form, as the templates ask for it."""
    out = [str(form.non_field_errors())]
    for field in form:
        out += [str(field), str(field.errors), field.as_hidden(only_initial=True)]
        out += [b.tag() + b.tag(wrap_label=True) for b in field.subwidgets]
    return out


def _form(key: str, renderer: BaseRenderer, data: dict[str, Any] | None) -> forms.Form:
    return form_class_for(steps.STEPS_BY_KEY[key])(
        data, step=steps.STEPS_BY_KEY[key], renderer=renderer
    )


BAD_INPUT = {
    "branch": "nope",
    "time_zone": "Mars/Olympus",
    "username": "not a username",
    "secret": "  ",
    "add_company_id": "-1",
    "add_contract_id": "x",
    "sync_start": "<script>",
    "has_annual": "maybe",
    "checklist": ["forged"],
}


@pytest.mark.parametrize("key", steps.STEP_KEYS)
@pytest.mark.parametrize("data", [None, {}, BAD_INPUT], ids=["unbound", "empty", "bad input"])
def test_every_step_form_renders_as_with_djangos_templates(key: str, data: Any) -> None:
    fast, django = _form(key, FAST, data), _form(key, DJANGO, data)
    if data == BAD_INPUT and key != "review":
        assert not fast.is_valid()  # errors shown: lists with items take Django's template
    assert _every_piece(fast) == _every_piece(django)


def test_it_is_the_projects_form_renderer(settings) -> None:
    from django.forms.renderers import get_default_renderer

    assert settings.FORM_RENDERER == "wizard.form_renderer.WidgetRenderer"
    assert isinstance(get_default_renderer(), WidgetRenderer)
