"""The benchmark's URLconf: the project's own URLs plus one baseline page, never in production.

The step page's figure (``gunicorn.step/auth``) compares it with the cheapest page that does the
same gatekeeping: a logged-in view that loads the session and the user, asks ``wizard.access``
for the tenant membership exactly as every wizard view does, and renders a one-line template
with the same context processors. What the step page costs beyond that is its own work.
"""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import include, path
from django.views.decorators.http import require_GET

from wizard import access

# One line, from a string: the baseline needs no template file in the product's templates/.
MEMBER_PAGE = engines["django"].from_string("<p>{{ tenant.name }}</p>\n")


@login_required
@require_GET
def member_page(request: HttpRequest, code: uuid.UUID) -> HttpResponse:
    tenant = access.tenant_for_member(request.user, code)
    return HttpResponse(MEMBER_PAGE.render({"tenant": tenant}, request))


urlpatterns = [
    path("bench/t/<uuid:code>/", member_page, name="bench-member-page"),
    path("", include("config.urls")),
]
