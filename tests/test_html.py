"""wizard.html escapes exactly as Django's format_html and conditional_escape do."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import html as django_html
from django.utils.functional import lazy
from django.utils.safestring import SafeString, mark_safe

from wizard.html import escaped, format_html, join_html

lazy_str = lazy(lambda: "<b>lazy & 'quoted'</b>", str)

VALUES = [
    "plain",
    "<script>alert('x')</script>",
    "a \"double\" & 'single' <quote>",
    "",
    0,
    42,
    3.5,
    None,
    True,
    mark_safe("<em>already safe</em>"),
    lazy_str(),
    "ＦＵＬＬ width\x00nul",
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_escaped_is_conditional_escape(value: Any) -> None:
    assert escaped(value) == django_html.conditional_escape(value)


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_format_html_is_djangos(value: Any) -> None:
    template = '<a title="{}" href="/x/{name}">{}</a>'
    ours = format_html(template, value, value, name=value)
    theirs = django_html.format_html(template, value, value, name=value)
    assert ours == theirs
    assert isinstance(ours, SafeString)


def test_the_template_itself_is_not_escaped() -> None:
    assert format_html("<p>{}</p>", "<b>") == "<p>&lt;b&gt;</p>"


def test_join_html_refuses_anything_not_already_safe() -> None:
    assert join_html([format_html("<li>{}</li>", "<x>"), format_html("<li>y</li>")]) == (
        "<li>&lt;x&gt;</li><li>y</li>"
    )
    with pytest.raises(TypeError, match="safe strings only"):
        join_html([format_html("<li>ok</li>"), "<script>"])  # type: ignore[list-item]
