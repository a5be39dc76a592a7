"""Links the pages repeat, worked out once per process.

reverse() costs more than the rest of a link, and the step page has a dozen (the navigation,
its forms). The URL of a name and its arguments never changes while the process runs, so each
is worked out once, with everything reverse() depends on in the key, and escaped once for HTML,
as ``{% url %}``'s autoescape would on every page. For a Location header use reverse(): these
are HTML.
"""

from __future__ import annotations

import functools
from typing import Any

from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.safestring import SafeString

from wizard.html import format_html


def url_html(viewname: str, *args: Any) -> SafeString:
    """``{% url viewname *args %}``: the URL, escaped for an HTML attribute."""
    return reverse_html(get_urlconf(), get_script_prefix(), viewname, tuple(str(a) for a in args))


@functools.lru_cache(maxsize=4096)
def reverse_html(
    urlconf: str | None, prefix: str, viewname: str, args: tuple[str, ...]
) -> SafeString:
    """url_html() for a caller that repeats it with the same urlconf and prefix."""
    # The prefix is in the key only: reverse() reads the same thread-local one.
    return format_html("{}", reverse(viewname, urlconf=urlconf, args=args))
