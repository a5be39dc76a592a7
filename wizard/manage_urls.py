from __future__ import annotations

from django.urls import path

from wizard.views import manage

app_name = "manage"

urlpatterns = [
    path("", manage.dashboard, name="dashboard"),
]
