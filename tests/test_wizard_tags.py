"""The step page's template tags that work something out once: the same output as the plain
way, and never the output of another step, registry or script prefix."""

from __future__ import annotations

import dataclasses

from django.template.loader import render_to_string
from django.urls import reverse, set_script_prefix

from wizard import steps
from wizard.steps import Instruction, Section
from wizard.templatetags.wizard_tags import cached_url, step_instructions


def test_cached_url_is_reverse_for_any_prefix() -> None:
    code = "0b7e5f4e-95a4-4c1a-9d2b-6a0c8f3f1e11"
    assert cached_url("wizard:step", code, "account") == reverse(
        "wizard:step", args=[code, "account"]
    )
    try:
        set_script_prefix("/wizard/")
        assert cached_url("wizard:step", code, "account") == f"/wizard/t/{code}/account/"
    finally:
        set_script_prefix("/")
    assert cached_url("wizard:step", code, "account") == f"/t/{code}/account/"


def test_instructions_are_the_templates_output_for_each_branch(settings) -> None:
    settings.DEBUG = False
    step = steps.STEPS_BY_KEY["account"]
    for branch in ("", "new", "existing"):
        sections = step.sections_for(branch) if branch else step.sections
        plain = render_to_string(
            "wizard/_instructions.html", {"sections": sections, "branch": branch}
        )
        assert step_instructions(step, branch) == plain
    assert step_instructions(step, "new") != step_instructions(step, "existing")


def test_another_step_under_the_same_key_gets_its_own_instructions(settings) -> None:
    """A registry built in a test (or a reload) brings new Step objects: never the old text."""
    settings.DEBUG = False
    step = steps.STEPS_BY_KEY["account"]
    assert "Reworded for this test" not in step_instructions(step, "")
    reworded = dataclasses.replace(
        step, sections=(Section("Reworded", (Instruction("Reworded for this test"),)),)
    )
    assert "Reworded for this test" in step_instructions(reworded, "")
    assert "Reworded for this test" not in step_instructions(step, "")
