from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from wizard.views import health

urlpatterns = [
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("manage/", include("wizard.manage_urls")),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("", include("wizard.urls")),
]
