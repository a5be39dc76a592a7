"""Login with throttling: password guessing gets slow long before it gets anywhere."""

from __future__ import annotations

import hashlib
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60


def _key(kind: str, value: str) -> str:
    # Hashed: usernames and addresses do not belong in cache keys in clear.
    return f"login-fail:{kind}:{hashlib.sha256(value.lower().encode()).hexdigest()[:32]}"


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


class ThrottledAuthenticationForm(AuthenticationForm):
    """Refuses a username (or a client address) after 5 failures in 15 minutes."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled": (
            "Too many failed attempts. Wait 15 minutes, or reset your password with the link below."
        ),
    }

    def _keys(self) -> list[str]:
        username = str(self.data.get("username", ""))[:150]
        return [_key("user", username), _key("addr", client_address(self.request))]

    def clean(self) -> dict[str, Any]:
        keys = self._keys()
        if any(cache.get(k, 0) >= MAX_FAILURES for k in keys):
            raise forms.ValidationError(self.error_messages["throttled"], code="throttled")
        try:
            return super().clean()
        except forms.ValidationError:
            for k in keys:
                cache.add(k, 0, WINDOW_SECONDS)
                try:
                    cache.incr(k)
                except ValueError:  # expired between add and incr
                    cache.set(k, 1, WINDOW_SECONDS)
            raise
