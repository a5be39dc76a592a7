"""``format_html`` for markup the step page repeats: the same escaping, less overhead.

Django's ``conditional_escape`` calls ``escape``, which is wrapped in ``keep_lazy``: before it
escapes a word it scans every argument for a lazy translation. On the step page that scan cost
more than the escaping, for each of a few hundred values per page (docs/performance.md). Here
a value with ``__html__`` (a safe string) is kept as it is and anything else goes through
``html.escape(str(value))``, exactly what Django's ``escape`` returns, lazy strings included
(``str()`` resolves them). tests/test_html.py compares both on every kind of value.

This is the one module of the wizard that marks a string safe: only ``format_html``'s result,
whose every value was escaped here, and ``join_html``'s, made only of such results.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

from django.utils.safestring import SafeString, mark_safe


def escaped(value: Any) -> str:
    """``conditional_escape(value)``, as a plain ``str``."""
    html_method = getattr(value, "__html__", None)
    return html_method() if html_method is not None else html.escape(str(value))


def format_html(template: str, /, *args: Any, **kwargs: Any) -> SafeString:
    """``django.utils.html.format_html``: every argument escaped, the template not."""
    text = template.format(
        *[escaped(a) for a in args], **{k: escaped(v) for k, v in kwargs.items()}
    )
    # Safe: the template is code, and every value in it was escaped on the line above.
    return mark_safe(text)  # nosec B308 B703


def join_html(parts: Iterable[SafeString]) -> SafeString:
    """Safe strings joined (``format_html_join`` for parts already formatted). A part that is
    not a safe string is refused rather than trusted."""
    parts = list(parts)
    for part in parts:
        if not isinstance(part, SafeString):
            raise TypeError(f"join_html takes safe strings only, not {type(part).__name__}")
    # Safe: each part is a safe string (checked above), and joining adds nothing.
    return mark_safe("".join(parts))  # nosec B308 B703


def attrs_html(attrs: dict[str, Any]) -> SafeString:
    """Django's ``attrs.html``: the attributes in order, a bare name for True, nothing for
    False."""
    return join_html(
        format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value)
        for name, value in attrs.items()
        if value is not False
    )
