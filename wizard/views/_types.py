from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """What HtmxMiddleware makes of every request (for type checking)."""

    htmx: HtmxDetails
