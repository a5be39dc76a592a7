"""What the partner answers and ticks, saved field by field so that two colleagues on one
step never overwrite each other silently (EditConflict)."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.views.decorators.debug import sensitive_variables

from wizard import steps
from wizard.models import (
    AuditEvent,
    StepProgress,
    Tenant,
)
from wizard.services.audit import Actor, audit
from wizard.services.credentials import credentials_save
from wizard.services.errors import (
    EditConflict,
    RowCollision,
)
from wizard.services.progress import clear_results, finish, lock_step
from wizard.services.tenants import tenant_time_zone_save

logger = logging.getLogger(__name__)


def step_answers_save(
    *,
    tenant: Tenant,
    step_key: str,
    user: Actor,
    changes: dict[str, Any],
    seen: dict[str, Any],
) -> StepProgress:
    """Store the fields this user changed. ``seen`` holds the values the user's form showed.

    Raises EditConflict, storing nothing, when a colleague saved another value for one of
    these fields since the form was shown; the caller shows both and lets the user decide.
    """
    with transaction.atomic():
        progress = lock_step(tenant, step_key)
        stored = {name: progress.answers.get(name) or "" for name in changes}
        conflicts = {
            name: stored[name]
            for name, value in changes.items()
            if stored[name] != (seen.get(name) or "") and stored[name] != value
        }
        if conflicts:
            raise EditConflict(conflicts)
        really_changed = {k: v for k, v in changes.items() if progress.answers.get(k) != v}
        if not really_changed:
            return progress
        return _store(
            progress,
            user,
            {**progress.answers, **really_changed},
            {"fields": sorted(really_changed)},
        )


def _store(
    progress: StepProgress, user: Actor, answers: dict[str, Any], detail: dict[str, Any]
) -> StepProgress:
    """Save new answers: the old results no longer hold; audited; the state follows."""
    progress.answers = answers
    clear_results(progress)
    audit(
        tenant=progress.tenant,
        user=user,
        action=AuditEvent.Action.ANSWERS_SAVED,
        step_key=progress.step_key,
        detail=detail,
    )
    return finish(progress, user)


def row_stamp(row: dict[str, Any]) -> str:
    """A short fingerprint of a list row as a page showed it (its names are labels only)."""
    basis = json.dumps(
        {k: v for k, v in row.items() if not k.endswith("_name")}, sort_keys=True, default=str
    )
    return hashlib.sha256(basis.encode()).hexdigest()[:12]


def rows_stamp(rows: Iterable[dict[str, Any]], key: str) -> str:
    """The list as a page shows it, for its form to carry back: "<key>@<row stamp>,..."."""
    return ",".join(f"{row.get(key)}@{row_stamp(row)}" for row in rows)


def parse_rows_stamp(value: str) -> dict[str, str]:
    """rows_stamp() read back: row key -> row stamp."""
    pairs = (part.rpartition("@") for part in value.split(",") if "@" in part)
    return {k: stamp for k, _, stamp in pairs if k}


def _row_conflict(
    items: list[dict[str, Any]], key: str, value: Any, seen: dict[str, str] | None, *, adding: bool
) -> dict[str, Any] | None:
    """The stored row a colleague saved for ``value`` since the page showed the list, if any.

    Adding: a row for the same key that the page did not show (or showed otherwise).
    Removing: a row the page showed, which a colleague changed since.
    """
    if seen is None:  # the form did not say what it showed (a plain request): nothing to compare
        return None
    stored = next((i for i in items if str(i.get(key)) == str(value)), None)
    if stored is None:
        return None
    shown = seen.get(str(value))
    if adding:
        return stored if shown != row_stamp(stored) else None
    return stored if shown is not None and shown != row_stamp(stored) else None


def answer_list_add(
    *,
    tenant: Tenant,
    step_key: str,
    user: Actor,
    field: str,
    item: dict[str, Any],
    key: str,
    seen: dict[str, str] | None = None,
    unique_by: tuple[str, ...] = (),
    replace: bool = True,
) -> StepProgress:
    """Append ``item`` to the list answer ``field``, replacing an entry with the same ``key``
    (or the same value of any of ``unique_by``: one contract per customer).

    ``seen``: the rows the person's page showed (parse_rows_stamp); EditConflict, storing
    nothing, when a colleague saved a row with this key since. With ``replace=False`` a listed
    entry that would be replaced raises RowCollision and nothing is stored: the person is asked
    whether to replace it or keep it. The very same entry again is no collision (it only
    refreshes its names).
    """
    by = (key, *unique_by)
    with transaction.atomic():
        progress = lock_step(tenant, step_key)
        listed = progress.answers.get(field, [])
        clash = _row_conflict(listed, key, item.get(key), seen, adding=True)
        if clash is not None:
            raise EditConflict({f"{field}:{item.get(key)}": clash})
        clashing = [i for i in listed if any(_same(i, item, k) for k in by)]
        same = [i for i in clashing if all(_same(i, item, k) for k in by)]
        if clashing and not replace and clashing != same:
            raise RowCollision(item, [i for i in clashing if i not in same])
        kept = same[0] if same else {}
        # The same row typed again keeps the names Autotask gave it.
        names = {k: v for k, v in kept.items() if k.endswith("_name") and not item.get(k)}
        merged = {**item, **names}
        # The new row takes the place of the first one it replaces: the list keeps its order.
        items: list[dict[str, Any]] = []
        for i in listed:
            if i in clashing:
                if merged not in items:
                    items.append(merged)
                continue
            items.append(i)
        if merged not in items:
            items.append(merged)
        if items == listed:
            return progress
        detail = {"fields": [field], "added": {key: item.get(key)}}
        return _store(progress, user, {**progress.answers, field: items}, detail)


def _same(a: dict[str, Any], b: dict[str, Any], key: str) -> bool:
    return str(a.get(key)) == str(b.get(key))


def list_names_fill(
    *,
    tenant: Tenant,
    companies: dict[int, str] | None = None,
    contracts: dict[int, str] | None = None,
    by_contract: dict[int, str] | None = None,
) -> None:
    """Fill in the names Autotask gave the listed rows' ids (hand-typed rows have none).

    Names are labels only (the checks read Autotask by id), so the results stay: this is no
    change of the answers, and it is not audited. Only empty or outdated names change.
    ``by_contract`` names the company of the row holding that contract (a verification reads
    a contract's company by the row's id, whatever other rows hold).
    """
    companies, contracts = companies or {}, contracts or {}
    by_contract = by_contract or {}
    list_steps = [s for s in steps.REGISTRY if s.list_field]
    with transaction.atomic():
        for progress in StepProgress.objects.select_for_update().filter(
            tenant=tenant, step_key__in=[s.key for s in list_steps]
        ):
            field_name = progress.step.list_field
            rows = progress.answers.get(field_name) or []
            changed = False
            for row in rows:
                company = by_contract.get(_as_int(row.get("contract_id")) or 0)
                if company and row.get("company_name") != company:
                    row["company_name"] = company
                    changed = True
                for names, id_key, name_key in (
                    (companies, "company_id", "company_name"),
                    (contracts, "contract_id", "contract_name"),
                ):
                    name = names.get(_as_int(row.get(id_key)) or 0)
                    if name and row.get(name_key) != name:
                        row[name_key] = name
                        changed = True
            if changed:
                progress.answers = {**progress.answers, field_name: rows}
                progress.save(update_fields=["answers", "updated_at"])


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def answer_list_remove(
    *,
    tenant: Tenant,
    step_key: str,
    user: Actor,
    field: str,
    key: str,
    value: Any,
    seen: dict[str, str] | None = None,
) -> StepProgress:
    with transaction.atomic():
        progress = lock_step(tenant, step_key)
        before = progress.answers.get(field, [])
        clash = _row_conflict(before, key, value, seen, adding=False)
        if clash is not None:
            raise EditConflict({f"{field}:{value}": clash})
        items = [i for i in before if str(i.get(key)) != str(value)]
        if len(items) == len(before):
            return progress
        detail = {"fields": [field], "removed": {key: value}}
        return _store(progress, user, {**progress.answers, field: items}, detail)


def checklist_update(
    *,
    tenant: Tenant,
    step_key: str,
    user: Actor,
    ticked: Iterable[str] = (),
    unticked: Iterable[str] = (),
) -> StepProgress:
    """Tick and untick items by id; a colleague's ticks on other items are kept.

    Only what the person changed arrives here (forms.StepForm.checklist_changes, against the
    ticks the page showed), so a tick has no conflict of its own: of two states, a colleague
    who changed the same item since can only have made the same change.
    """
    valid = {i.id for i in steps.STEPS_BY_KEY[step_key].checklist}
    ticked = {i for i in ticked if i in valid}
    unticked = {i for i in unticked if i in valid} - ticked
    with transaction.atomic():
        progress = lock_step(tenant, step_key)
        current = set(progress.checklist)
        new = (current | ticked) - unticked
        if new == current:
            return progress
        # Keep the registry's order so the stored list is stable and readable.
        progress.checklist = [i.id for i in progress.step.checklist if i.id in new]
        for action, items in (
            (AuditEvent.Action.CHECKLIST_TICKED, new - current),
            (AuditEvent.Action.CHECKLIST_UNTICKED, current - new),
        ):
            for item in sorted(items):
                audit(
                    tenant=tenant,
                    user=user,
                    action=action,
                    step_key=step_key,
                    detail={"item": item},
                )
        return finish(progress, user)


# Steps whose results depend on reading Autotask's dates in the tenant's time zone.


@dataclass(frozen=True)
class Submission:
    """Everything one step form carried, as the form read it (see forms.StepForm)."""

    changes: dict[str, Any] = field(default_factory=dict)
    # The values the form showed for ``changes`` (to detect a colleague's save meanwhile).
    seen: dict[str, Any] = field(default_factory=dict)
    ticked: tuple[str, ...] = ()
    unticked: tuple[str, ...] = ()
    # (new value, value the form showed) when the time zone was changed, else None.
    time_zone: tuple[str, str] | None = None
    # The API user step: the Username when changed, and a new Secret (None: keep the stored
    # ones); the Username the page showed, and the stamp of the credentials it showed.
    username: str | None = None
    secret: str | None = None
    username_seen: str | None = None
    credentials_stamp: str | None = None
    # The step's list answer (e.g. customers): a row to add, or the key of a row to remove;
    # the rows the page showed (parse_rows_stamp; None: the form did not say).
    new_row: dict[str, Any] | None = None
    # True when the person answered "Replace" to a RowCollision for ``new_row``.
    replace_row: bool = False
    remove: str | None = None
    rows_seen: dict[str, str] | None = None


@sensitive_variables("submission", "parts", "kwargs")
def step_submit(*, tenant: Tenant, step_key: str, user: Actor, submission: Submission) -> None:
    """Save a step form in one transaction: all of it, or (on EditConflict) none of it.

    Every part is tried, so one EditConflict names every field a colleague changed meanwhile
    (the person then sees them all at once, not one per attempt).
    """
    step = steps.STEPS_BY_KEY[step_key]
    sub = submission
    on: dict[str, Any] = {"tenant": tenant, "step_key": step_key, "user": user}
    parts: list[tuple[Callable[..., Any], dict[str, Any]]] = []
    if sub.changes:
        parts.append((step_answers_save, {**on, "changes": sub.changes, "seen": sub.seen}))
    if sub.ticked or sub.unticked:
        parts.append((checklist_update, {**on, "ticked": sub.ticked, "unticked": sub.unticked}))
    if sub.time_zone is not None:
        value, seen = sub.time_zone
        parts.append(
            (
                tenant_time_zone_save,
                {"tenant": tenant, "user": user, "time_zone": value, "seen": seen},
            )
        )
    if sub.username or sub.secret is not None:
        parts.append(
            (
                credentials_save,
                {
                    "tenant": tenant,
                    "user": user,
                    "username": sub.username or None,
                    "secret": sub.secret,
                    "seen_username": sub.username_seen,
                    "stamp": sub.credentials_stamp,
                },
            )
        )
    if step.list_field and sub.new_row:
        row = {"field": step.list_field, "key": step.list_key, "seen": sub.rows_seen}
        add = {"unique_by": step.list_unique_by, "replace": sub.replace_row}
        parts.append((answer_list_add, {**on, **row, **add, "item": sub.new_row}))
    if step.list_field and sub.remove:
        row = {"field": step.list_field, "key": step.list_key, "seen": sub.rows_seen}
        parts.append((answer_list_remove, {**on, **row, "value": sub.remove}))

    conflicts: dict[str, Any] = {}
    message: str | None = None
    with transaction.atomic():
        for save, kwargs in parts:
            try:
                save(**kwargs)
            except EditConflict as e:
                # Each service's own atomic block has rolled its part back; the raise below
                # rolls back the parts that were saved.
                conflicts.update(e.fields)
                if e.message != EditConflict.default_message:
                    message = e.message
        if conflicts:
            raise EditConflict(conflicts, message)
