"""Django's form renderer, with the smallest widget templates written in Python.

Every step page renders a dozen tiny form templates: each input, radio button and hidden
"value as shown" field is ``input.html`` plus ``attrs.html`` through the template engine, and
each empty error list is two templates more. That was a fifth of the step page's template time
for one line of HTML each (docs/performance.md). Here those few produce the same HTML with
``format_html`` (wizard/html.py: Django's escaping); everything else, and any case not
handled here, still goes through Django's own templates. tests/test_form_renderer.py compares
the two for every widget and value the wizard uses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.forms.renderers import DjangoTemplates
from django.http import HttpRequest
from django.utils.safestring import SafeString

from wizard.html import attrs_html, format_html

_INPUTS = ("input", "hidden", "text", "number", "password", "email", "url")


def _input(context: dict[str, Any]) -> SafeString:
    # input.html
    widget = context["widget"]
    value = widget["value"]
    return format_html(
        '<input type="{}" name="{}"{}{}>',
        widget["type"],
        widget["name"],
        format_html(' value="{}"', value) if value is not None else "",
        attrs_html(widget["attrs"]),
    )


def _input_option(context: dict[str, Any]) -> SafeString:
    # input_option.html (a radio button or checkbox, on its own or wrapped in its label)
    widget = context["widget"]
    if not widget.get("wrap_label"):
        return _input(context)
    target = widget["attrs"].get("id")
    # The included input.html ends with a newline; only the whole is stripped.
    return format_html(
        "<label{}>{}\n {}</label>",
        format_html(' for="{}"', target) if target else "",
        _input(context),
        widget["label"],
    )


def _errors(context: dict[str, Any]) -> str | None:
    # errors/list/ul.html renders nothing for no errors; a list with errors takes the template.
    return "" if not context["errors"] else None


_FAST: dict[str, Callable[[dict[str, Any]], str | None]] = {
    **{f"django/forms/widgets/{name}.html": _input for name in _INPUTS},
    "django/forms/widgets/radio_option.html": _input_option,
    "django/forms/widgets/checkbox_option.html": _input_option,
    "django/forms/errors/list/default.html": _errors,
}


class WidgetRenderer(DjangoTemplates):
    """``FORM_RENDERER``: Django's templates, but the one-line ones above in Python."""

    def render(
        self, template_name: str, context: dict[str, Any], request: HttpRequest | None = None
    ) -> str:
        fast = _FAST.get(template_name)
        if fast is not None:
            html = fast(context)
            if html is not None:
                return html
        return str(super().render(template_name, context, request))
