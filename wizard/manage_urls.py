from __future__ import annotations

from django.urls import path

from wizard.views import manage, onboarding

app_name = "manage"

urlpatterns = [
    path("", manage.dashboard, name="dashboard"),
    path("export.csv", manage.export_csv, name="export"),
    path("partners/new/", onboarding.partner_new, name="partner_new"),
    path("partners/import/", onboarding.partner_import, name="partner_import"),
    path(
        "partners/import/confirm/",
        onboarding.partner_import_confirm,
        name="partner_import_confirm",
    ),
    path("t/<uuid:code>/", manage.tenant_detail, name="tenant"),
    path("t/<uuid:code>/reset/", manage.reset, name="reset"),
    path("t/<uuid:code>/invite/", manage.invite, name="invite"),
]
