"""Re-encrypt every stored Autotask Secret with the newest key of SECRET_ENCRYPTION_KEYS.

Rotation: put the new key first in SECRET_ENCRYPTION_KEYS (keep the old ones after it), deploy,
run this command, then remove the old keys. Until then every key still decrypts.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from wizard import crypto
from wizard.models import AutotaskCredential


class Command(BaseCommand):
    help = "Re-encrypt every stored Secret with the newest SECRET_ENCRYPTION_KEYS key."

    def handle(self, *args: Any, **options: Any) -> None:
        done = failed = 0
        for pk in AutotaskCredential.objects.values_list("pk", flat=True):
            with transaction.atomic():
                cred = AutotaskCredential.objects.select_for_update().get(pk=pk)
                try:
                    cred.secret_encrypted = crypto.reencrypt_secret(cred.secret_encrypted)
                except crypto.SecretUnreadable:
                    failed += 1
                    self.stderr.write(
                        f"Tenant {cred.tenant_id}: no configured key decrypts its Secret; "
                        "left as is (the partner must enter it again)."
                    )
                    continue
                cred.save(update_fields=["secret_encrypted"])
                done += 1
        self.stdout.write(
            f"Re-encrypted {done} secret(s) with the newest key; {failed} unreadable."
        )
        if failed:
            raise SystemExit(1)
