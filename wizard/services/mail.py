"""Mail: each message is a pair of templates in templates/emails/ (subject and body, plain
text); a mail server failure is logged, never turned into a lost action."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.core.mail import send_mail
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


def send_quietly(subject: str, body: str, to: Iterable[str], *, connection: Any = None) -> bool:
    """Send a mail; False (logged) if the mail server failed: the action itself happened.

    ``connection`` (from ``get_connection()``) lets a batch share one connection to the mail
    server instead of opening one per mail.
    """
    recipients = list(to)
    try:
        send_mail(subject, body, None, recipients, connection=connection)
    except Exception:  # SMTP errors come in many classes; the action itself already happened
        logger.exception("could not send mail %r to %d recipient(s)", subject, len(recipients))
        return False
    return True


def send_template(
    name: str, context: dict[str, Any], to: Iterable[str], *, connection: Any = None
) -> bool:
    """Render ``emails/<name>_subject.txt`` and ``emails/<name>.txt`` and send them."""
    subject = " ".join(render_to_string(f"emails/{name}_subject.txt", context).split())
    body = render_to_string(f"emails/{name}.txt", context).strip() + "\n"
    return send_quietly(subject, body, to, connection=connection)
