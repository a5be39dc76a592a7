from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from wizard.auth import ThrottledAuthenticationForm
from wizard.views import api, health, team

urlpatterns = [
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=ThrottledAuthenticationForm),
        name="login",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("manage/", include("wizard.manage_urls")),
    path("api/v1/tenants/", api.tenants, name="api_tenants"),
    path("invite/", team.accept, name="invitation"),
    path("invite/<str:token>/", team.accept_link, name="invitation_accept"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("", include("wizard.urls")),
]
