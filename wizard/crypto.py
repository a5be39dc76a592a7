"""Encryption of stored Autotask Secrets (Fernet tokens, keys from SECRET_ENCRYPTION_KEYS).

MultiFernet encrypts with the first (newest) key and decrypts with any of them, which is what
makes key rotation possible without downtime (see docs/security.md).
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.crypto import salted_hmac

from wizard.errors import UserFacingError


class SecretUnreadable(UserFacingError):
    """A stored token could not be decrypted with any configured key."""

    default_message = (
        "The stored Secret can no longer be read (the encryption keys changed). Enter the "
        "Secret again on the API user step."
    )


def _fernet() -> MultiFernet:
    keys = settings.SECRET_ENCRYPTION_KEYS
    if not keys:
        raise ImproperlyConfigured("SECRET_ENCRYPTION_KEYS is empty.")
    try:
        return MultiFernet([Fernet(k) for k in keys])
    except (ValueError, TypeError) as e:
        # Never echo the key itself.
        raise ImproperlyConfigured(
            "SECRET_ENCRYPTION_KEYS must be Fernet keys (32 url-safe base64 bytes), comma "
            "separated. Generate one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'"
        ) from e


def encrypt_secret(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt_secret(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as e:
        raise SecretUnreadable() from e


def reencrypt_secret(token: str) -> str:
    """Re-encrypt a token with the newest key (for rotate_secret_keys)."""
    try:
        return _fernet().rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken as e:
        raise SecretUnreadable() from e


def credentials_stamp(username: str | None, token: str | None) -> str:
    """An opaque stamp of the stored credentials (``None``: none stored), for a form to carry.

    A page holds it in place of the Secret: when it no longer matches, a colleague saved new
    credentials after the page was opened. Keyed (SECRET_KEY) over the Username and the
    encrypted token, which changes on every save, so it says nothing about the Secret itself.
    A key rotation re-encrypts and so changes it too: a page open meanwhile is asked again.
    """
    basis = "none" if username is None else f"{username}\n{token or ''}"
    return salted_hmac("wizard.crypto.credentials_stamp", basis, algorithm="sha256").hexdigest()[
        :32
    ]
