"""Many partners at once, from a CSV file: the import page (/manage/partners/import/) and
``python manage.py import_partners``. Each row is checked and created as one partner added by
hand would be (services.onboarding); an existing name is skipped, so importing one file twice
creates nothing the second time.

An import runs in two steps. ``import_plan`` reads the file and says what each row would do;
nothing is written. ``import_run`` does it, after ``import_plan`` ran again on the same content
and gave the same answer as the preview the person confirmed (``ImportPlan.fingerprint``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from django.core import signing
from django.core.mail import get_connection
from django.db import IntegrityError, transaction

from wizard import selectors
from wizard.models import (
    AuditEvent,
    Invitation,
    Tenant,
    partner_name_key,
)
from wizard.services.audit import Actor, actor_of, audit_many
from wizard.services.errors import (
    ImportChanged,
    ImportRefused,
    PartnerRefused,
)
from wizard.services.onboarding import (
    AcceptUrl,
    NewPartner,
    clean_name,
    clean_owner_email,
    create_partners,
    resolve_manager,
)
from wizard.services.team import invitation_mail

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 1_000_000
MAX_ROWS = 5_000
COLUMNS = ("name", "owner_email", "account_manager")
PREVIEW_SALT = "wizard.partner-import"
PREVIEW_MAX_AGE = 3600  # seconds a preview may be confirmed for


# --- importing a file -------------------------------------------------------------------------


def import_read(data: bytes, *, size: int | None = None) -> str:
    """The file's text, or ImportRefused saying why it cannot be read. ``size``: the file's
    whole size, when ``data`` holds only its start."""
    total = max(len(data), size or 0)
    if total > MAX_FILE_BYTES:
        raise ImportRefused(
            f"The file is {total:,} bytes; the limit is 1 MB ({MAX_FILE_BYTES:,} bytes). "
            "Split it into smaller files and import each."
        )
    if not data.strip():
        raise ImportRefused(
            "The file is empty. Its first line must be the header: " + ",".join(COLUMNS) + "."
        )
    try:
        # utf-8-sig: the byte order mark Excel writes in front of "CSV UTF-8" files is dropped.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ImportRefused(
            "The file is not UTF-8 text. In Excel, save it with File > Save As > "
            "'CSV UTF-8 (Comma delimited)'; in other programs choose the UTF-8 encoding."
        ) from e
    if "\x00" in text:
        raise ImportRefused(
            "The file contains NUL characters, so it is not a plain CSV file (it may be UTF-16, "
            "or a spreadsheet). Save it as 'CSV UTF-8 (Comma delimited)' and upload it again."
        )
    return text


def _header_key(cell: str) -> str:
    return "_".join(cell.strip().lower().replace("-", " ").replace("_", " ").split())


@dataclass
class PartnerRow:
    """One line of the file and what importing it would do."""

    line: int
    name: str
    owner_email: str
    manager_ref: str
    manager: Any = None
    existing: Tenant | None = None
    errors: list[str] = field(default_factory=list)
    name_ok: bool = False

    @property
    def status(self) -> str:
        return "error" if self.errors else "exists" if self.existing is not None else "new"

    @property
    def manager_name(self) -> str:
        return self.manager.get_username() if self.manager is not None else self.manager_ref

    def describe(self) -> str:
        """What happens to the row, as the preview and the command say it."""
        if self.errors:
            return "Error: " + " ".join(self.errors)
        if self.existing is not None:
            return "Exists, will be skipped."
        return f"New: will be created, and {self.owner_email} invited as its owner."


@dataclass
class ImportPlan:
    content: str
    rows: list[PartnerRow]

    @property
    def new(self) -> list[PartnerRow]:
        return [r for r in self.rows if r.status == "new"]

    @property
    def existing(self) -> list[PartnerRow]:
        return [r for r in self.rows if r.status == "exists"]

    @property
    def errors(self) -> list[PartnerRow]:
        return [r for r in self.rows if r.status == "error"]

    def fingerprint(self) -> str:
        """The file and what each row would do: equal fingerprints, equal imports."""
        h = hashlib.sha256(self.content.encode())
        for r in self.rows:
            manager = r.manager.pk if r.manager is not None else ""
            existing = r.existing.pk if r.existing is not None else ""
            h.update(f"\n{r.line}|{r.status}|{manager}|{existing}|{'|'.join(r.errors)}".encode())
        return h.hexdigest()


def _rows(text: str) -> list[tuple[int, list[str]]]:
    """(line number, cells) of each non-empty line after the header; ImportRefused for the
    file as a whole."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, [])
        want = list(COLUMNS)
        got = [_header_key(c) for c in header]
        if got != want:
            shown = ",".join(header)
            if len(shown) > 120:
                shown = shown[:117] + "..."
            hint = ""
            if len(header) == 1 and ";" in header[0]:
                hint = " The columns seem to be separated by semicolons: use commas."
            raise ImportRefused(
                "The first line must be the header " + ",".join(COLUMNS) + f", but it is "
                f"{shown!r}.{hint} See the example on this page."
            )
        out: list[tuple[int, list[str]]] = []
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue  # a blank line, often the last one
            if len(out) == MAX_ROWS:
                raise ImportRefused(
                    f"The file has more than {MAX_ROWS:,} partners; the limit is {MAX_ROWS:,} "
                    "a file. Split it into smaller files and import each."
                )
            out.append((reader.line_num, cells))
    except csv.Error as e:
        raise ImportRefused(
            f"Line {reader.line_num} cannot be read as CSV ({e}). Check its quotes."
        ) from e
    if not out:
        raise ImportRefused("The file has a header but no partners below it.")
    return out


def import_plan(*, content: str, importer: Actor) -> ImportPlan:
    """What importing ``content`` would do, row by row. Writes nothing.

    ``importer`` is the person importing (None for the command): an empty account manager
    means them, and an account manager may only name themselves.
    """
    directory = selectors.staff_directory()
    rows: list[PartnerRow] = []
    for line, cells in _rows(content):
        if len(cells) != len(COLUMNS):
            row = PartnerRow(line, cells[0] if cells else "", "", "")
            row.errors.append(
                f"This line has {len(cells)} columns; it needs {len(COLUMNS)} "
                "(name, owner email, account manager). Quote a value that holds a comma."
            )
            rows.append(row)
            continue
        name, email, ref = cells
        row = PartnerRow(line, " ".join(name.split()), email.strip(), ref.strip())
        try:
            row.name = clean_name(name)
            row.name_ok = True
        except PartnerRefused as e:
            row.errors.append(e.message)
        try:
            row.owner_email = clean_owner_email(email, directory.staff_emails)
        except PartnerRefused as e:
            row.errors.append(e.message)
        try:
            row.manager = resolve_manager(ref, importer=importer, directory=directory)
        except PartnerRefused as e:
            row.errors.append(e.message)
        rows.append(row)
    # Duplicates inside the file: the first occurrence counts, the later ones are errors.
    first: dict[str, int] = {}
    for row in rows:
        if not row.name_ok:
            continue
        key = partner_name_key(row.name)
        if key in first:
            row.errors.append(f"The same partner as line {first[key]}: remove one of them.")
        else:
            first[key] = row.line
    existing = selectors.partners_named(set(first))
    for row in rows:
        if row.name_ok:
            row.existing = existing.get(partner_name_key(row.name))
    return ImportPlan(content, rows)


def preview_token(plan: ImportPlan, *, importer: Actor) -> str:
    """What the preview's Confirm button sends back: the file itself and the fingerprint of
    what the preview showed, signed (and bound to the person) so that neither can be altered."""
    return signing.dumps(
        {"c": plan.content, "f": plan.fingerprint(), "u": _user_pk(importer)},
        salt=PREVIEW_SALT,
        compress=True,
    )


def preview_from_token(token: str, *, importer: Actor) -> tuple[str, str]:
    """(content, fingerprint) of a preview this person was shown; ImportRefused otherwise."""
    try:
        data = signing.loads(token, salt=PREVIEW_SALT, max_age=PREVIEW_MAX_AGE)
    except signing.SignatureExpired as e:
        raise ImportRefused(
            "This preview is more than an hour old. Upload the file again to see a new one."
        ) from e
    except signing.BadSignature as e:
        raise ImportRefused("This preview cannot be read. Upload the file again.") from e
    if data.get("u") != _user_pk(importer):
        raise ImportRefused("This preview was made for someone else. Upload the file again.")
    return str(data["c"]), str(data["f"])


def _user_pk(user: Actor) -> Any:
    return user.pk if user is not None and user.is_authenticated else None


@dataclass
class ImportResult:
    created: list[PartnerRow] = field(default_factory=list)
    skipped: list[PartnerRow] = field(default_factory=list)
    not_imported: list[PartnerRow] = field(default_factory=list)  # rows with errors
    mail_failed: list[PartnerRow] = field(default_factory=list)
    seconds: float = 0.0


def import_run(
    *,
    content: str,
    importer: Actor,
    accept_url: AcceptUrl,
    expected: str | None = None,
    skip_errors: bool = False,
    via: str = "import",
) -> ImportResult:
    """Import ``content``: create the new partners, skip the existing ones.

    The plan is made again here. ``expected``, the fingerprint of the preview the person
    confirmed, must match it, else ImportChanged (carrying ``plan``) and nothing is created.
    Rows with errors stop the import (ImportRefused) unless ``skip_errors``. The invitation
    mails go out after the commit, over one connection; a mail the server refused deletes its
    invitation (no pending invitation that nobody received) and is listed in ``mail_failed``.
    """
    started = time.monotonic()
    plan = import_plan(content=content, importer=importer)
    if expected is not None and plan.fingerprint() != expected:
        raise _changed(plan)
    if plan.errors and not skip_errors:
        raise ImportRefused(
            f"{len(plan.errors)} line(s) have errors, so nothing was imported. Correct them "
            "and import the file again, or import only the lines without errors."
        )
    new = plan.new
    try:
        with transaction.atomic():
            made = create_partners(
                [NewPartner(r.name, r.owner_email, r.manager) for r in new],
                user=importer,
                via=via,
            )
    except IntegrityError as e:
        # Another import (or a double click) added some of these partners after the plan
        # was made: the unique name refused them, and this transaction created nothing.
        raise _changed(import_plan(content=content, importer=importer)) from e
    result = ImportResult(created=list(new), skipped=plan.existing, not_imported=plan.errors)
    if made:
        _mail_invitations(made, new, result, importer=importer, accept_url=accept_url)
    result.seconds = time.monotonic() - started
    logger.info(
        "partner import: %d created, %d skipped, %d with errors, %d mails failed, %.2f s",
        len(result.created),
        len(result.skipped),
        len(result.not_imported),
        len(result.mail_failed),
        result.seconds,
    )
    return result


def _mail_invitations(
    made: list[tuple[Tenant, Invitation]],
    rows: list[PartnerRow],
    result: ImportResult,
    *,
    importer: Actor,
    accept_url: AcceptUrl,
) -> None:
    """After the commit (no mail server holds the database): one connection for every mail.
    "Invitation sent" is audited only for the mails the server took."""
    connection = get_connection()
    try:
        connection.open()
    except Exception:  # SMTP errors come in many classes: then each send tries (and logs) alone
        logger.exception("could not connect to the mail server for a partner import")
        connection = None
    sent: list[AuditEvent] = []
    try:
        for row, (tenant, invitation) in zip(rows, made, strict=True):
            if invitation_mail(
                invitation, user=importer, accept_url=accept_url, connection=connection
            ):
                sent.append(
                    AuditEvent(
                        tenant=tenant,
                        actor=actor_of(importer),
                        action=AuditEvent.Action.INVITATION_SENT,
                        detail={"email": invitation.email, "role": invitation.role},
                    )
                )
            else:
                # As invitation_create: an invitation nobody received is worse than none.
                invitation.delete()
                result.mail_failed.append(row)
    finally:
        if connection is not None:
            connection.close()
    audit_many(sent)


def _changed(plan: ImportPlan) -> ImportChanged:
    return ImportChanged(plan=plan)
