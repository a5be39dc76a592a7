from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from wizard.auth import (
    RateLimitedPasswordResetForm,
    ThrottledAdminAuthenticationForm,
    ThrottledAuthenticationForm,
)
from wizard.views import api, health, team

# The admin's own login page shares the throttle's message (the throttle itself is the axes
# backend, on every login path).
admin.site.login_form = ThrottledAdminAuthenticationForm

urlpatterns = [
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=ThrottledAuthenticationForm),
        name="login",
    ),
    path(
        "accounts/password_reset/",
        auth_views.PasswordResetView.as_view(form_class=RateLimitedPasswordResetForm),
        name="password_reset",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("manage/", include("wizard.manage_urls")),
    path("api/v1/tenants/", api.tenants, name="api_tenants"),
    path("api/v1/tenants/<uuid:code>/", api.tenant, name="api_tenant"),
    path("invite/", team.accept, name="invitation"),
    path("invite/<str:token>/", team.accept_link, name="invitation_accept"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("", include("wizard.urls")),
]
