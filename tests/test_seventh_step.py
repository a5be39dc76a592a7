"""Adding a step is one step module and one line in the registry: nothing else changes.

This test builds a registry of its own with a seventh step and swaps it in; the wizard pages,
the evaluation, the saving, the dashboard, the export and the API follow without a change
anywhere else.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.http import StreamingHttpResponse

from tests.conftest import login, make_user
from wizard import selectors, services, steps
from wizard.models import StepProgress, Tenant
from wizard.steps.base import ChecklistItem, Instruction, Section, Step
from wizard.steps.registry import REGISTRY, Registry, swapped

pytestmark = pytest.mark.django_db

BILLING_CODE = Step(
    key="billing-code",
    title="Billing code",
    phase="A Billing Code for the synced services",
    summary="Create the Billing Code Billing Sync puts on the services it syncs.",
    why="Autotask needs a Billing Code of type Recurring Contract for recurring services.",
    sections=(
        Section(
            "Create the Billing Code",
            (
                Instruction(
                    "Add a Billing Code of type Recurring Contract.", path="Admin > Finance"
                ),
            ),
        ),
    ),
    checklist=(ChecklistItem("billing-code-created", "The Billing Code exists."),),
)


@pytest.fixture
def seven() -> Iterator[Registry]:
    # Before the review: the review is a summary of every earlier step, the new one included.
    registry = Registry([*REGISTRY.steps[:-1], BILLING_CODE, REGISTRY.steps[-1]])
    with swapped(registry):
        yield registry


def test_the_wizard_handles_a_seventh_step(seven: Registry) -> None:
    owner = make_user("seven-owner")
    tenant = services.tenant_create(name="Seven Seas IT", owner=owner, time_zone="Australia/Sydney")
    assert len(steps.STEPS) == 7
    assert StepProgress.objects.filter(tenant=tenant).count() == 7

    client = login(owner)
    page = client.get(f"/t/{tenant.code}/billing-code/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Billing code" in html and "Add a Billing Code of type Recurring Contract." in html
    assert "Admin &gt; Finance" in html
    # The navigation lists all seven, in the registry's order.
    start = html.index('id="step-nav"')
    nav = html[start : html.index("</nav>", start)]
    assert [key for key in seven.keys if f"/{key}/" in nav] == list(seven.keys)

    # Saving the step's form: the tick is stored and the step is done.
    r = client.post(
        f"/t/{tenant.code}/billing-code/",
        {"checklist": ["billing-code-created"], "checklist_shown": "", "action": "save"},
    )
    assert r.status_code == 302
    progress = StepProgress.objects.get(tenant=tenant, step_key="billing-code")
    assert progress.checklist == ["billing-code-created"]
    assert progress.state == "done"

    # "Save and continue" leads to the next step in the registry's order: the review.
    r = client.post(
        f"/t/{tenant.code}/billing-code/",
        {"checklist": ["billing-code-created"], "checklist_shown": "billing-code-created",
         "action": "next"},
    )  # fmt: skip
    assert r["Location"].endswith("/review/")

    # The evaluation: the review waits for the earlier steps, this one no longer among them.
    review = selectors.wizard_overview(tenant).get("review")
    blocker = next(b for b in review.evaluation.blockers if b.startswith("Finish the earlier"))
    assert "Billing code" not in blocker and "Your Autotask account" in blocker

    # The dashboard, the export and the API count seven steps.
    tenant.refresh_from_db()
    assert tenant.finished_steps == 1 and tenant.current_step_index == 1
    staff = login(make_user("seven-staff", is_staff=True, is_superuser=True))
    dashboard = staff.get("/manage/").content.decode()
    assert "1 of 7" in dashboard
    exported = staff.get("/manage/export.csv")
    assert isinstance(exported, StreamingHttpResponse)
    export = b"".join(exported.streaming_content).decode()
    assert "billing-code" in export.splitlines()[0]
    api = staff.get("/api/v1/tenants/?q=Seven").json()["results"][0]
    assert api["progress"]["total"] == 7
    assert api["steps"]["billing-code"] == "done"


def test_finishing_every_step_of_seven_is_finished(seven: Registry) -> None:
    tenant = Tenant.objects.create(name="All done")
    StepProgress.objects.bulk_create(
        [StepProgress(tenant=tenant, step_key=s.key, state="done") for s in seven]
    )
    services.tenant_summary_refresh(tenant.pk)
    tenant.refresh_from_db()
    assert (tenant.finished_steps, tenant.current_step_index) == (7, 8)
    assert selectors.step_title_at(8) == "Finished"
