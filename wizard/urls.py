from __future__ import annotations

from django.urls import path

from wizard.views import partner, team

app_name = "wizard"

urlpatterns = [
    path("", partner.home, name="home"),
    path("t/<uuid:code>/", partner.resume, name="resume"),
    path("t/<uuid:code>/team/", team.team, name="team"),
    # Not step keys (they come before the step pattern, which would take them).
    path("t/<uuid:code>/done/", partner.done, name="done"),
    path(
        "t/<uuid:code>/reset-notice/dismiss/",
        partner.reset_notice_dismiss,
        name="reset_notice_dismiss",
    ),
    path("t/<uuid:code>/<slug:step_key>/", partner.step, name="step"),
    path("t/<uuid:code>/<slug:step_key>/checklist/", partner.checklist_toggle, name="checklist"),
    path("t/<uuid:code>/<slug:step_key>/skip/", partner.skip, name="skip"),
    path("t/<uuid:code>/<slug:step_key>/unskip/", partner.unskip, name="unskip"),
    path("t/<uuid:code>/<slug:step_key>/verify/", partner.verify, name="verify"),
    path("t/<uuid:code>/<slug:step_key>/picker/", partner.picker, name="picker"),
    path("t/<uuid:code>/<slug:step_key>/live/", partner.live, name="live"),
    path("t/<uuid:code>/<slug:step_key>/rows/", partner.rows, name="rows"),
]
