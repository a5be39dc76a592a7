"""The building blocks of a step: plain, frozen data plus a few pure functions. No I/O."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wizard.steps.forms import StepForm


@dataclass(frozen=True)
class Facts:
    """What a step's blockers may need beyond its own answers (read by the caller)."""

    # The API user's Username and whether a Secret is stored (AutotaskCredential).
    username: str = ""
    has_secret: bool = False
    # Whether the tenant's time zone is set (Tenant.time_zone).
    time_zone_set: bool = True


def _no_blockers(answers: Mapping[str, Any], facts: Facts) -> list[str]:
    return []


def _always(answers: Mapping[str, Any]) -> bool:
    return True


def _never(facts: Facts) -> bool:
    return False


def _nothing_missing(answers: Mapping[str, Any]) -> str:
    return ""


@dataclass(frozen=True)
class Instruction:
    """One thing to do in Autotask. ``path`` is a menu path, ``settings`` exact setting names."""

    text: str
    path: str = ""
    settings: tuple[str, ...] = ()
    # "" for everyone, else only shown on that branch of the step (e.g. "new" / "existing").
    branch: str = ""
    # A page of Autotask's own help, shown as a link.
    link: str = ""


@dataclass(frozen=True)
class Section:
    title: str
    instructions: tuple[Instruction, ...]
    intro: str = ""


@dataclass(frozen=True)
class ChecklistItem:
    """Something the partner confirms by hand because the API cannot see it."""

    id: str
    text: str
    branch: str = ""


@dataclass(frozen=True)
class Branch:
    key: str
    label: str
    hint: str


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    # The guide's own heading for this phase, so partners can match it to the article.
    phase: str
    summary: str
    why: str
    sections: tuple[Section, ...]
    checklist: tuple[ChecklistItem, ...]
    optional: bool = False
    skip_consequence: str = ""
    # True when the step is only done once its Autotask checks pass.
    verifies: bool = False
    branches: tuple[Branch, ...] = ()
    # Steps whose data this step's verification needs (e.g. the API user's credentials).
    verification_needs: tuple[str, ...] = field(default=())
    # The answer that picks the branch of the instructions and checklist, if any.
    branch_field: str = ""
    # What still stands between the partner and "done" in the step's own inputs, in plain
    # words (the checklist and the verification are judged by wizard.evaluation).
    blockers: Callable[[Mapping[str, Any], Facts], list[str]] = field(default=_no_blockers)
    # False for answers that leave nothing in Autotask to check (e.g. "no annual customers").
    verification_wanted: Callable[[Mapping[str, Any]], bool] = field(default=_always)
    # The form for the step's inputs (None: the checklist alone), and the template that
    # renders its fields on the step page ("" for none).
    form: type[StepForm] | None = None
    inputs_template: str = ""
    # A list answer the step builds row by row (e.g. its customers), and the key of a row.
    list_field: str = ""
    list_key: str = "contract_id"
    # The list's heading on the page (and in a conflict box).
    list_label: str = ""
    # Other row fields that may appear only once in the list (one contract per customer):
    # adding a row that repeats one asks whether to replace the listed row.
    list_unique_by: tuple[str, ...] = ()
    # The list's caption on the page ("Customers added").
    list_caption: str = "Added so far"
    # Its checks read Autotask's dates, which only make sense in the tenant's time zone.
    reads_dates: bool = False
    # A summary step: it cannot be done while an earlier step is open.
    requires_earlier: bool = False
    # Whether the step counts as started from facts kept outside its answers (a Username).
    started_by: Callable[[Facts], bool] = field(default=_never)
    # Why a verification cannot start yet with these answers ("" when it can).
    nothing_to_verify: Callable[[Mapping[str, Any]], str] = field(default=_nothing_missing)

    @property
    def open_label(self) -> str:
        """The step as a summary step lists it while it is open: an optional one says so."""
        return f"{self.title} (optional: you can skip it)" if self.optional else self.title

    def branch_of(self, answers: Mapping[str, Any]) -> str:
        return str(answers.get(self.branch_field, "")) if self.branch_field else ""

    def checklist_for(self, branch: str) -> tuple[ChecklistItem, ...]:
        return tuple(i for i in self.checklist if not i.branch or i.branch == branch)

    def sections_for(self, branch: str) -> tuple[Section, ...]:
        out = []
        for section in self.sections:
            items = tuple(i for i in section.instructions if not i.branch or i.branch == branch)
            if items or section.intro:
                out.append(Section(section.title, items, section.intro))
        return tuple(out)
