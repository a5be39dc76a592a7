"""Logging in and resetting a password, made slow to abuse.

Login throttling is django-axes (ADR 0008): ``AxesStandaloneBackend`` refuses a throttled
login before any password is checked, on every path that calls ``authenticate()``. This module
holds what axes asks the project for: the username as Django resolves it, the client's address,
and a lockout page that is the login page with a clear message. Password-reset mails, which
axes does not cover, are limited here per address and per client.
"""

from __future__ import annotations

import hashlib
import logging
import unicodedata
from http import HTTPStatus
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

log = logging.getLogger(__name__)

THROTTLED = "Too many failed attempts. Wait 15 minutes, or reset your password with the link below."
# The admin's login page has no reset link of its own.
THROTTLED_ADMIN = (
    "Too many failed attempts. Wait 15 minutes, or reset your password from the link on "
    "/accounts/login/."
)
LOCKOUT_STATUS = HTTPStatus.TOO_MANY_REQUESTS
# Set on the request when the login form has already said THROTTLED, so the lockout response
# keeps that page instead of replacing it.
_SHOWN = "wizard_throttle_shown"

# Password-reset mails: per recipient address, and reset requests per client address.
RESET_MAILS_PER_ADDRESS = 3
RESET_REQUESTS_PER_CLIENT = 10
RESET_WINDOW_SECONDS = 60 * 60


def client_address(request: Any) -> str:
    """The client's address. Behind NUM_PROXIES trusted reverse proxies, read it from
    X-Forwarded-For (the proxies append to it), else every user would share the proxy's."""
    if request is None:
        return ""
    proxies = settings.NUM_PROXIES
    if proxies:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [a for a in forwarded if a]
        if len(forwarded) >= proxies:
            return str(forwarded[-proxies])
    return str(request.META.get("REMOTE_ADDR", ""))


def login_username(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str | None:
    """The username a login attempt is counted under (AXES_USERNAME_CALLABLE).

    Django strips the field and normalises it to NFKC before it authenticates (UsernameField,
    ``normalize_username``), so " colleague", "colleague\\t" and full-width "ｃｏｌｌｅａｇｕｅ" all
    reach the same account; counting what was typed would give each spelling its own budget.
    Case is folded too: "Colleague" is one more guess at the same name.
    """
    field = get_user_model().USERNAME_FIELD
    if credentials:
        raw = credentials.get(field)
    else:
        raw = request.POST.get(field) if request is not None else None
    if raw is None:
        return None
    return unicodedata.normalize("NFKC", str(raw).strip()).casefold()[:150]


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any
) -> HttpResponse:
    """What a throttled login gets (AXES_LOCKOUT_CALLABLE): the login page it posted to,
    which says why, with HTTP 429. Any other way to log in gets a short page saying the same."""
    if original_response is not None and getattr(request, _SHOWN, False):
        original_response.status_code = LOCKOUT_STATUS
        return original_response
    return render(
        request,
        "registration/locked_out.html",
        {"message": THROTTLED},
        status=LOCKOUT_STATUS,
    )


class _ThrottleMessage:
    """Says "Too many failed attempts" instead of "wrong password" when axes refused the login
    (or counted the failure that reached the limit)."""

    request: HttpRequest | None
    throttled_message = THROTTLED

    def get_invalid_login_error(self) -> forms.ValidationError:
        if self.request is not None and getattr(self.request, "axes_locked_out", False):
            setattr(self.request, _SHOWN, True)
            return forms.ValidationError(self.throttled_message, code="throttled")
        return super().get_invalid_login_error()  # type: ignore[misc,no-any-return]


class ThrottledAuthenticationForm(_ThrottleMessage, AuthenticationForm):
    """/accounts/login/."""


class ThrottledAdminAuthenticationForm(_ThrottleMessage, AdminAuthenticationForm):
    """/admin/login/: the same throttle as /accounts/login/."""

    throttled_message = THROTTLED_ADMIN


def _take(kind: str, value: str, limit: int) -> bool:
    """Count one use of ``value`` for ``kind`` in the current window; False once over
    ``limit``. The cache key holds a hash, never the address itself."""
    key = f"reset:{kind}:{hashlib.sha256(value.encode()).hexdigest()[:32]}"
    cache.add(key, 0, RESET_WINDOW_SECONDS)
    try:
        used = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, RESET_WINDOW_SECONDS)
        used = 1
    return bool(used <= limit)


class RateLimitedPasswordResetForm(PasswordResetForm):
    """Django's reset form, sending at most RESET_MAILS_PER_ADDRESS mails to one address and
    answering RESET_REQUESTS_PER_CLIENT requests from one client per hour. Over a limit nothing is
    sent, and the requester sees the usual "Check your email" page: whether an address has an
    account stays as hidden as ever, and a mailbox cannot be flooded."""

    def save(  # type: ignore[override]  # PasswordResetView passes keywords only
        self, *, request: HttpRequest | None = None, **kwargs: Any
    ) -> None:
        if not _take("client", client_address(request), RESET_REQUESTS_PER_CLIENT):
            log.warning("Password reset refused: too many requests from one client.")
            return
        super().save(request=request, **kwargs)

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        address = unicodedata.normalize("NFKC", to_email.strip()).casefold()
        if not _take("address", address, RESET_MAILS_PER_ADDRESS):
            log.warning("Password reset mail not sent: too many for one address this hour.")
            return
        super().send_mail(
            subject_template_name,
            email_template_name,
            context,
            from_email,
            to_email,
            html_email_template_name,
        )
