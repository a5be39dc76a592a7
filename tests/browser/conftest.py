"""Real-browser tests: Playwright (sync API) driving the system Chromium against ``live_server``.

Chromium is found through $CHROMIUM_PATH, else /usr/bin/chromium, else ``chromium`` on PATH
(Playwright's own browser download is never used). Without one the browser tests are skipped,
loudly (see the terminal summary), or fail when REQUIRE_BROWSER=1 (CI).

Every test fails on a browser console error, an uncaught page error or a Content-Security-Policy
violation, except a favicon 404 and whatever the test declares expected with ``console.allow``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    WebError,
    sync_playwright,
)
from playwright.sync_api import Error as PlaywrightError

from tests.conftest import PASSWORD
from tests.factories import make_account_manager, make_wizard_admin

# Playwright's sync API keeps an asyncio loop running in this thread from the first browser
# test to the end of the session, so Django would refuse every ORM call made after it (in these
# tests and in any test that runs later in the same session) with SynchronousOnlyOperation.
# There is no real concurrency here: the ORM is only ever called from this thread and from the
# live server's own threads.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / "docs" / "images"
AXE_PATH = ROOT / "node_modules" / "axe-core" / "axe.min.js"

LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
VIEWPORT = {"width": 1280, "height": 900}
TIMEOUT_MS = 10_000

# Tags in skip reasons, counted by pytest_terminal_summary.
NO_BROWSER = "BROWSER TESTS SKIPPED"
NO_AXE = "AXE-CORE MISSING"


def require_browser() -> bool:
    return os.environ.get("REQUIRE_BROWSER", "").strip().lower() in {"1", "true", "yes"}


def unavailable(tag: str, reason: str) -> None:
    """Skip (loudly) or, under REQUIRE_BROWSER=1, fail."""
    message = f"{tag}: {reason}"
    if require_browser():
        pytest.fail(f"{message} (REQUIRE_BROWSER=1 turns this skip into a failure)", pytrace=False)
    pytest.skip(message)


def find_chromium() -> tuple[str | None, str]:
    """(path, "") or (None, why not)."""
    configured = os.environ.get("CHROMIUM_PATH", "").strip()
    if configured:
        if os.path.isfile(configured) and os.access(configured, os.X_OK):
            return configured, ""
        return None, f"CHROMIUM_PATH={configured!r} is not an executable file"
    for candidate in ("/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate, ""
    return None, (
        "no Chromium found (looked at $CHROMIUM_PATH, /usr/bin/chromium and `chromium` on "
        "PATH); install Debian's chromium or set CHROMIUM_PATH"
    )


# --- order ------------------------------------------------------------------------------------


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the browser tests last (stable sort, after pytest-django's db ordering).

    They are the slowest (~20 s); everything else reports first. They only touch the database
    through ``live_server``'s transactional_db, so nothing after them depends on their order.
    """
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


# --- terminal summary -------------------------------------------------------------------------


def _skip_reason(report: Any) -> str:
    longrepr = getattr(report, "longrepr", None)
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr or "")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    reasons = [_skip_reason(r) for r in terminalreporter.stats.get("skipped", [])]
    no_browser = [r for r in reasons if NO_BROWSER in r]
    no_axe = sum(NO_AXE in r for r in reasons)
    if no_browser:
        why = no_browser[0].split(f"{NO_BROWSER}: ", 1)[-1]
        terminalreporter.write_line(
            f"BROWSER TESTS SKIPPED: {len(no_browser)} (no Chromium found; set CHROMIUM_PATH): "
            + why,
            red=True,
            bold=True,
        )
    if no_axe:
        terminalreporter.write_line(
            f"ACCESSIBILITY TESTS SKIPPED: {no_axe} (node_modules/axe-core missing; run `npm ci`)",
            red=True,
            bold=True,
        )


# --- console errors fail the test -------------------------------------------------------------


@dataclass
class ConsoleLog:
    """Console errors and page errors seen in any context of one test."""

    problems: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)
    pages: list[Page] = field(default_factory=list)

    def allow(self, pattern: str) -> None:
        """Expect console errors matching ``pattern`` (regex, searched in "text @ url")."""
        self.allowed.append(re.compile(pattern))

    def on_console(self, msg: ConsoleMessage) -> None:
        if msg.type != "error":
            return
        url = str(msg.location.get("url", "")) if msg.location else ""
        if "favicon" in url or "favicon" in msg.text:
            return
        where = msg.page.url if msg.page else "?"
        self.problems.append(f"console.error: {msg.text} @ {url} (page {where})")

    def on_page(self, page: Page) -> None:
        self.pages.append(page)

    def on_web_error(self, error: WebError) -> None:
        where = error.page.url if error.page else "?"
        self.problems.append(f"pageerror: {error.error.message} (page {where})")

    def unexpected(self) -> list[str]:
        return [p for p in self.problems if not any(a.search(p) for a in self.allowed)]


@pytest.fixture
def console(request: pytest.FixtureRequest) -> ConsoleLog:
    log = ConsoleLog()
    request.node._browser_console = log
    return log


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    result = yield  # re-raises if the test itself failed: that failure wins
    log: ConsoleLog | None = getattr(item, "_browser_console", None)
    if log is not None:
        for page in log.pages:  # let Playwright deliver events still in flight
            if not page.is_closed():
                with contextlib.suppress(PlaywrightError):
                    page.wait_for_timeout(50)
                break
        problems = log.unexpected()
        if problems:
            pytest.fail(
                "The browser reported errors (console errors, page errors or CSP violations):\n"
                + "\n".join(f"  {p}" for p in problems),
                pytrace=False,
            )
    return result


# Reports CSP violations on the console even where Chromium's own message would be terse.
CSP_REPORTER = """
document.addEventListener('securitypolicyviolation', (e) => {
  console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline')
    + ' in ' + e.sourceFile + ':' + e.lineNumber);
});
"""


# --- Playwright and Chromium ------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    path, reason = find_chromium()
    if path is None:
        unavailable(NO_BROWSER, reason)
    assert path is not None
    return path


@pytest.fixture(scope="session")
def playwright(chromium_executable: str) -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright, chromium_executable: str) -> Iterator[Browser]:
    try:
        b = playwright.chromium.launch(
            executable_path=chromium_executable, headless=True, args=LAUNCH_ARGS
        )
    except PlaywrightError as e:
        unavailable(NO_BROWSER, f"Chromium at {chromium_executable} did not start: {e}")
        raise
    yield b
    b.close()


@pytest.fixture
def new_context(
    browser: Browser, live_server: Any, console: ConsoleLog, settings: Any
) -> Iterator[Callable[..., BrowserContext]]:
    """Make a browser context (a separate cookie jar: one per user) that reports its errors."""
    # Session and CSRF cookies are Secure (DEBUG is off). Chromium keeps Secure cookies set over
    # plain http only for "localhost", live_server's default host; on any other host (e.g.
    # --liveserver 127.0.0.1:8081) they would be dropped and no login could work.
    if urlsplit(live_server.url).hostname != "localhost":
        settings.SESSION_COOKIE_SECURE = False
        settings.CSRF_COOKIE_SECURE = False
    contexts: list[BrowserContext] = []

    def make(**options: Any) -> BrowserContext:
        options.setdefault("viewport", VIEWPORT)
        options.setdefault("base_url", live_server.url)
        options.setdefault("locale", "en-GB")
        options.setdefault("timezone_id", "UTC")
        ctx = browser.new_context(**options)
        ctx.set_default_timeout(TIMEOUT_MS)
        ctx.add_init_script(CSP_REPORTER)
        ctx.on("console", console.on_console)
        ctx.on("weberror", console.on_web_error)
        ctx.on("page", console.on_page)
        contexts.append(ctx)
        return ctx

    yield make
    for ctx in contexts:
        ctx.close()


@pytest.fixture
def context(new_context: Callable[..., BrowserContext]) -> BrowserContext:
    return new_context()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


# --- helpers ----------------------------------------------------------------------------------


def shot(page: Page, name: str) -> Path:
    """A full-page PNG at docs/images/<name>.png (for the docs; rewritten on every run)."""
    IMAGES.mkdir(parents=True, exist_ok=True)
    path = IMAGES / f"{name}.png"
    page.screenshot(path=str(path), full_page=True, animations="disabled", caret="hide")
    return path


def login(page: Page, live_server: Any, username: str, password: str = PASSWORD) -> None:
    """Log in through the real login form; fails the test if the form comes back."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in", exact=True).click()
    if "/accounts/login/" in page.url:
        pytest.fail(f"Logging in as {username!r} failed: still on {page.url}", pytrace=False)


# --- shared fixtures for the verification and staff walks --------------------------------------


@pytest.fixture
def autotask_sandbox(settings: Any) -> None:
    """The in-process Autotask sandbox (same process as live_server), with a clean slate.

    Zone lookups and metadata are cached in Django's cache, and the per-endpoint concurrency
    slots are module-level: both would otherwise carry over from earlier tests.
    """
    from django.core.cache import cache

    from wizard.autotask import limits

    settings.AUTOTASK_SANDBOX = True
    cache.clear()
    limits.reset()


@pytest.fixture
def account_manager(db: None) -> User:
    """Distributor staff in "Account managers": sees the tenants assigned to them, no reset."""
    return make_account_manager("am_browser")


@pytest.fixture
def wizard_admin(db: None) -> User:
    """Staff with wizard.reset_wizard and wizard.view_all_tenants (as tests/views' admin_user)."""
    return make_wizard_admin("wizard_admin")
