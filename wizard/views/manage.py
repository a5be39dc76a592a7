"""Distributor staff: the dashboard across tenants."""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from wizard import selectors


@staff_member_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    rows = selectors.dashboard_rows(request.user)
    return render(request, "manage/dashboard.html", {"rows": rows})
