from __future__ import annotations

from django.urls import path

from wizard.views import completion, live, partner, rows, team

app_name = "wizard"

urlpatterns = [
    path("", partner.home, name="home"),
    path("t/<uuid:code>/", partner.resume, name="resume"),
    path("t/<uuid:code>/team/", team.team, name="team"),
    # Not step keys (they come before the step pattern, which would take them).
    path("t/<uuid:code>/done/", completion.done, name="done"),
    path(
        "t/<uuid:code>/reset-notice/dismiss/",
        completion.reset_notice_dismiss,
        name="reset_notice_dismiss",
    ),
    path("t/<uuid:code>/<slug:step_key>/", partner.step, name="step"),
    path("t/<uuid:code>/<slug:step_key>/checklist/", partner.checklist_toggle, name="checklist"),
    path("t/<uuid:code>/<slug:step_key>/skip/", partner.skip, name="skip"),
    path("t/<uuid:code>/<slug:step_key>/unskip/", partner.unskip, name="unskip"),
    path("t/<uuid:code>/<slug:step_key>/verify/", partner.verify, name="verify"),
    path("t/<uuid:code>/<slug:step_key>/picker/", rows.picker, name="picker"),
    path("t/<uuid:code>/<slug:step_key>/live/", live.live, name="live"),
    path("t/<uuid:code>/<slug:step_key>/rows/", rows.rows, name="rows"),
]
