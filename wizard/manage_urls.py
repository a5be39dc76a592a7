from __future__ import annotations

from django.urls import path

from wizard.views import manage

app_name = "manage"

urlpatterns = [
    path("", manage.dashboard, name="dashboard"),
    path("export.csv", manage.export_csv, name="export"),
    path("t/<uuid:code>/", manage.tenant_detail, name="tenant"),
    path("t/<uuid:code>/reset/", manage.reset, name="reset"),
    path("t/<uuid:code>/invite/", manage.invite, name="invite"),
]
