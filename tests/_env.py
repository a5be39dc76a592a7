"""Loaded by pytest (``-p tests._env``) before Django starts: a production-like environment.

Tests run with DEBUG off, so the settings demand every secret; these are test-only values.
Values already in the environment (e.g. DATABASE_URL on CI) win.
"""

from __future__ import annotations

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-0123456789")
# A fixed, valid Fernet key for tests only.
os.environ.setdefault("SECRET_ENCRYPTION_KEYS", "q5Wz4mN0hZ1rX8dC3vB6nJ2kL9pQ7sT0uY4eR1wA5fI=")
os.environ.setdefault("AUTOTASK_INTEGRATION_CODE", "TEST-INTEGRATION-CODE")
os.environ.setdefault("AUTOTASK_SANDBOX", "false")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("STATIC_MANIFEST", "false")
os.environ.setdefault("EMAIL_URL", "consolemail://")
