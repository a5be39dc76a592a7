"""Import partners from a CSV file, as the import page does (services.partner_import).

Exit status 0 when every line is fine; 1 when any line has an error (then nothing is created,
unless --skip-errors creates the lines without errors) or the file cannot be read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from wizard import services
from wizard.services import partner_import


class Command(BaseCommand):
    help = (
        "Add partners from a CSV file (name,owner_email,account_manager) and invite their "
        "first owners. Partners that exist already are skipped, so running it twice creates "
        "nothing new. Exits 1 if any line has an error."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The CSV file (UTF-8, at most 1 MB and 5,000 lines).")
        parser.add_argument(
            "--dry-run", action="store_true", help="Print what each line would do; create nothing."
        )
        parser.add_argument(
            "--skip-errors",
            action="store_true",
            help="Create the lines without errors even if other lines have some (exit 1 still).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            with path.open("rb") as f:
                data = f.read(partner_import.MAX_FILE_BYTES + 1)
            size = path.stat().st_size
        except OSError as e:
            raise CommandError(f"Cannot read {path}: {e.strerror}.") from e
        try:
            content = services.import_read(data, size=size)
            plan = services.import_plan(content=content, importer=None)
        except services.ImportRefused as e:
            raise CommandError(e.message) from e
        for row in plan.rows:
            name = row.name if len(row.name) <= 80 else row.name[:77] + "..."
            self.stdout.write(f"line {row.line}: {name}: {row.describe()}")
        summary = (
            f"{len(plan.new)} new, {len(plan.existing)} existing (skipped), "
            f"{len(plan.errors)} with errors."
        )
        if options["dry_run"]:
            self.stdout.write(f"Dry run, nothing created: {summary}")
        elif plan.errors and not options["skip_errors"]:
            self.stdout.write(
                f"Nothing created: {summary} Correct the errors, or use --skip-errors."
            )
        else:
            result = services.import_run(
                content=content,
                importer=None,
                accept_url=lambda token: (
                    settings.SITE_URL + reverse("invitation_accept", args=[token])
                ),
                expected=plan.fingerprint(),
                skip_errors=True,
                via="command",
            )
            for row in result.mail_failed:
                self.stdout.write(
                    f"line {row.line}: {row.name}: created, but the invitation email could "
                    "not be sent; invite the owner from the partner's page."
                )
            self.stdout.write(
                f"Created {len(result.created)}, skipped {len(result.skipped)} existing, "
                f"{len(result.not_imported)} with errors not imported, "
                f"{len(result.mail_failed)} invitation email(s) not sent "
                f"({result.seconds:.2f} s)."
            )
        if plan.errors:
            raise CommandError(f"{len(plan.errors)} line(s) have errors.", returncode=1)
