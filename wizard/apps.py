from __future__ import annotations

from django.apps import AppConfig


class WizardConfig(AppConfig):
    name = "wizard"
    verbose_name = "Billing Sync setup wizard"
    default_auto_field = "django.db.models.BigAutoField"
