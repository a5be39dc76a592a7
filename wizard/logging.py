"""A logging filter that keeps credentials out of every log record, whatever logged it.

The Autotask client never logs headers, but a third-party library, a debug statement or an
exception message might. This filter is the last line: it rewrites anything that looks like a
credential header or field, or a link with an invitation or password-reset token, before the
record reaches a handler. It sits on the app's handler (settings.LOGGING) and on gunicorn's
(config/gunicorn_conf.py).
"""

from __future__ import annotations

import logging
import re

from django.views.debug import SafeExceptionReporterFilter

# Header/field names whose values must never be written out.
_SENSITIVE = r"(?:Secret|ApiIntegrationCode|password|secret_encrypted|csrfmiddlewaretoken)"
_PATTERNS = [
    # 'Secret': 'value'  "Secret": "value"  Secret=value  Secret: value
    re.compile(rf"(['\"]?{_SENSITIVE}['\"]?\s*[:=]\s*)(['\"]?)[^'\"\s,}}&]+(\2)", re.IGNORECASE),
    # Fernet tokens (the encrypted Secret) are useless without the key, but still not logged.
    re.compile(r"()()gAAAAA[A-Za-z0-9_\-=]{40,}()"),
    # Links that let their holder in: an invitation (/invite/<token>/) and a password reset
    # (/accounts/reset/<uidb64>/<token>/). Django logs the path of 4xx answers, and an access
    # log (runserver's, gunicorn's) the request line and the Referer, so the token goes.
    re.compile(r"(/invite/)()[^/?#\s\"']+()"),
    re.compile(r"(/reset/[^/?#\s\"']+/)()(?!set-password\b)[^/?#\s\"']+()"),
]


def redact(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}***{m.group(3)}", text)
    return text


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the record
            message = str(record.msg)
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            # Format the traceback now, redacted, so the handler does not print it raw.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class SecretsExceptionReporterFilter(SafeExceptionReporterFilter):
    """Django's filter, plus our names: the Autotask Secret and the encryption keys."""

    hidden_settings = re.compile(
        "API|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|ENCRYPTION|INTEGRATION_CODE",
        flags=re.IGNORECASE,
    )

    def get_post_parameters(self, request):  # type: ignore[no-untyped-def]
        params = super().get_post_parameters(request)
        if request is not None and request.method == "POST":
            params = params.copy()
            for name in (
                "secret",
                "password",
                "password1",
                "password2",
                "new_password1",
                "new_password2",
            ):
                if name in params:
                    params[name] = self.cleansed_substitute
        return params
