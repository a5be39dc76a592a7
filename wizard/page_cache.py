"""Step pages served again from memory while nothing they show has changed.

Building a step page is mostly Python work (six ORM queries, the template), about 20 times
a bare view; a partner reloads the same step, and every click of the side navigation loads
one. So a rendered page is kept, and the next GET of the same page in the same session is
answered from memory, after one SQL statement confirms that it would come out the same:

- Stored only for a page the normal path rendered (login, membership, the view) with status
  200, no query string, no flash message pending and a session the request did not change.
- Stored with a fingerprint of everything the page is made from, read *before* the render (so
  a change during the render makes the fingerprint older, never newer, than the page): the
  session row, the user's row (password hash, username, staff and active flags), the
  membership, the tenant's row, the credential's username, and every progress row with the
  username of who last changed it. Rows are read whole (``t.*``, ``p.*``), so a column added
  later is covered without touching this file.
- Served only if the same statement, run first on every GET, finds the session still there,
  unexpired and unchanged, the user still active with the same password, still a member, and
  the fingerprint identical. Anything else falls through to the normal path, which redirects
  to the login page or answers 404 as it always does. (Django's own ``cache_page`` with
  ``vary_on_cookie`` checks none of this on a hit.)
- Keyed by the session and CSRF cookies, the URL, the htmx headers and the current quarter
  hour in UTC (the recurring-contract step shows a date computed from the tenant's today, and
  every time zone's midnight falls on a quarter hour: a kept page never outlives its date).
- Kept in this process's memory only (``CACHES["pages"]``): never in a shared cache, never
  persisted, emptied by a restart. Entries expire after 5 minutes whatever happens.

The fast path reads ``django_session`` and relies on ModelBackend's rule (active users only),
so it switches itself off with any other session engine or authentication backend.

``PAGE_CACHE_VERIFY`` (on in the tests) renders every page served from memory afresh as
well and raises if the two differ, so any test that is served a kept page checks it.
"""

from __future__ import annotations

import functools
import hashlib
import re
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import patch_vary_headers

from wizard.models import AutotaskCredential, Membership, StepProgress, Tenant

CACHE_ALIAS = "pages"
DB_SESSIONS = "django.contrib.sessions.backends.db"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
AXES_BACKEND = "axes.backends.AxesStandaloneBackend"


class PageCacheMismatch(AssertionError):
    """PAGE_CACHE_VERIFY: the page served from memory is not what the normal path renders."""


@dataclass(frozen=True)
class Pending:
    """What a page about to be rendered will be stored under, if it may be stored."""

    key: str
    user_id: int
    fingerprint: bytes


def enabled() -> bool:
    # The login throttle's backend logs nobody in and loads no user, so it changes nothing here.
    backends = [b for b in settings.AUTHENTICATION_BACKENDS if b != AXES_BACKEND]
    return bool(
        settings.PAGE_CACHE
        and settings.SESSION_ENGINE == DB_SESSIONS
        and backends == [MODEL_BACKEND]
    )


def _key(request: HttpRequest, code: uuid.UUID, step_key: str) -> str | None:
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    csrf_cookie = request.COOKIES.get(settings.CSRF_COOKIE_NAME)
    if (
        request.method != "GET"
        or not session_key
        or not csrf_cookie
        or request.GET
        # A flash message waiting in its cookie is shown by the next page.
        or request.COOKIES.get(CookieStorage.cookie_name)
    ):
        return None
    htmx = sorted((k, v) for k, v in request.META.items() if k.startswith("HTTP_HX_"))
    parts = (
        session_key,
        csrf_cookie,
        str(code),
        step_key,
        request.path,
        request.get_host(),
        request.is_secure(),
        htmx,
        _quarter_hour(),
        settings.AUTOTASK_SANDBOX,
    )
    return "page:" + hashlib.sha256(repr(parts).encode()).hexdigest()


def _quarter_hour() -> str:
    """The current UTC quarter hour. Every UTC offset in use is a multiple of 15 minutes, so
    no tenant's date (its time zone is on its row) changes within one; entries live 5 minutes
    anyway, so this costs almost nothing."""
    now = timezone.now()
    return f"{now:%Y-%m-%dT%H}:{now.minute // 15 * 15:02d}"


@functools.cache
def _statement() -> str:
    """The one read, written once from the models' own table and column names: a row per
    progress row, each carrying the session, user, membership, tenant and credential columns."""
    q = connection.ops.quote_name
    user_model = get_user_model()
    user, username = user_model._meta, user_model.USERNAME_FIELD

    def col(meta: Any, name: str) -> str:
        return q(meta.get_field(name).column)

    sess, mem, ten = Session._meta, Membership._meta, Tenant._meta
    cred, prog = AutotaskCredential._meta, StepProgress._meta
    # Only table and column names from the models go into the text; every value is a parameter.
    columns = ", ".join(
        [
            f"s.{col(sess, 'session_data')}",
            f"u.{col(user, 'password')}",
            f"u.{col(user, username)}",
            f"u.{col(user, 'is_staff')}",
            f"m.{col(mem, 'role')}",
            f"c.{col(cred, 'username')}",
            "t.*",
            "p.*",
            f"e.{col(user, username)}",
        ]
    )
    tables = (
        f"{q(sess.db_table)} s, {q(user.db_table)} u, {q(mem.db_table)} m, {q(ten.db_table)} t "
        f"LEFT JOIN {q(cred.db_table)} c ON c.{col(cred, 'tenant')} = t.{col(ten, 'id')} "
        f"LEFT JOIN {q(prog.db_table)} p ON p.{col(prog, 'tenant')} = t.{col(ten, 'id')} "
        f"LEFT JOIN {q(user.db_table)} e ON e.{col(user, 'id')} = p.{col(prog, 'updated_by')}"
    )
    where = " AND ".join(
        [
            f"s.{col(sess, 'session_key')} = %s",
            f"s.{col(sess, 'expire_date')} > %s",
            f"u.{col(user, 'id')} = %s",
            f"u.{col(user, 'is_active')} = %s",
            f"m.{col(mem, 'user')} = u.{col(user, 'id')}",
            f"m.{col(mem, 'tenant')} = t.{col(ten, 'id')}",
            f"t.{col(ten, 'code')} = %s",
        ]
    )
    order = f"p.{col(prog, 'id')}"
    return f"SELECT {columns} FROM {tables} WHERE {where} ORDER BY {order}"  # nosec B608


def _fingerprint(session_key: str, user_id: int, code: uuid.UUID) -> bytes | None:
    """None unless the session is live and its user an active member of the tenant."""
    now = Session._meta.get_field("expire_date").get_db_prep_value(
        timezone.now(), connection, prepared=False
    )
    code_param = Tenant._meta.get_field("code").get_db_prep_value(code, connection)
    with connection.cursor() as cursor:
        cursor.execute(_statement(), [session_key, now, user_id, True, code_param])
        rows = cursor.fetchall()
    if not rows:
        return None
    # repr() of what the database returned: identical rows give identical bytes. The password
    # hash and session data only ever leave the database inside this digest.
    return hashlib.sha256(repr(rows).encode()).digest()


def lookup(request: HttpRequest, code: uuid.UUID, step_key: str) -> HttpResponse | None:
    """The page from memory if it is still exactly what the normal path would render."""
    if not enabled() or (key := _key(request, code, step_key)) is None:
        return None
    entry = caches[CACHE_ALIAS].get(key)
    if entry is None:
        return None
    user_id, fingerprint, content, headers = entry
    session_key = request.COOKIES[settings.SESSION_COOKIE_NAME]
    if _fingerprint(session_key, user_id, code) != fingerprint:
        return None
    response = HttpResponse(content, headers=headers)
    # The normal path reads the session, which adds this; the cached one must say it too.
    patch_vary_headers(response, ("Cookie",))
    return response


def prepare(request: HttpRequest, code: uuid.UUID, step_key: str) -> Pending | None:
    """Before a GET renders (user and membership already checked): may the page be kept?"""
    if not enabled() or (key := _key(request, code, step_key)) is None:
        return None
    session = getattr(request, "session", None)
    if (
        session is None
        or session.session_key != request.COOKIES[settings.SESSION_COOKIE_NAME]
        # The page embeds a token for this cookie's secret; a fresh cookie means a new page.
        or request.META.get("CSRF_COOKIE") != request.COOKIES[settings.CSRF_COOKIE_NAME]
        # A flash message is shown once: such a page must not be shown again.
        or len(messages.get_messages(request))
    ):
        return None
    user_id = request.user.pk
    if user_id is None:
        return None
    fingerprint = _fingerprint(session.session_key, user_id, code)
    if fingerprint is None:
        return None
    return Pending(key=key, user_id=user_id, fingerprint=fingerprint)


def store(pending: Pending | None, request: HttpRequest, response: HttpResponse) -> None:
    if (
        pending is None
        or response.status_code != 200
        or response.streaming
        or response.cookies
        # The session will be saved with other data: the fingerprint is already out of date.
        or request.session.modified
    ):
        return
    entry = (pending.user_id, pending.fingerprint, response.content, dict(response.items()))
    caches[CACHE_ALIAS].set(pending.key, entry)


# A masked CSRF token: 64 letters and digits. Two renders mask the same secret differently.
_TOKEN = re.compile(rb"\b[A-Za-z0-9]{64}\b")


def _comparable(content: bytes) -> bytes:
    # Django's own unmasking, private but stable since 4.1; verification mode only.
    from django.middleware.csrf import _unmask_cipher_token  # type: ignore[attr-defined]

    return _TOKEN.sub(lambda m: _unmask_cipher_token(m.group().decode()).encode(), content)


def verify(cached: HttpResponse, fresh: HttpResponse) -> None:
    """PAGE_CACHE_VERIFY: raise unless the normal path renders what memory served."""
    if fresh.status_code != 200:
        raise PageCacheMismatch(
            f"served a cached page where the normal path answers {fresh.status_code}"
        )
    if _comparable(cached.content) != _comparable(fresh.content):
        raise PageCacheMismatch("served a cached page that differs from a fresh render")
    for name in ("Content-Type", "HX-Push-Url"):
        if cached.headers.get(name) != fresh.headers.get(name):
            raise PageCacheMismatch(f"served a cached page with another {name} header")
