from __future__ import annotations

from django.urls import path

from wizard.views import partner, team

app_name = "wizard"

urlpatterns = [
    path("", partner.home, name="home"),
    path("t/<uuid:code>/", partner.resume, name="resume"),
    path("t/<uuid:code>/team/", team.team, name="team"),
    path("t/<uuid:code>/<slug:step_key>/", partner.step, name="step"),
    path("t/<uuid:code>/<slug:step_key>/checklist/", partner.checklist_toggle, name="checklist"),
    path("t/<uuid:code>/<slug:step_key>/skip/", partner.skip, name="skip"),
    path("t/<uuid:code>/<slug:step_key>/unskip/", partner.unskip, name="unskip"),
    path("t/<uuid:code>/<slug:step_key>/verify/", partner.verify, name="verify"),
    path("t/<uuid:code>/<slug:step_key>/picker/", partner.picker, name="picker"),
    path("t/<uuid:code>/<slug:step_key>/rows/", partner.rows, name="rows"),
]
