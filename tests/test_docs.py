"""The docs keep up with the code: every check id is in the catalogue, every setting in the
README and .env.example."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECK_ID = re.compile(r'"((?:auth|access|contract|company)\.[a-z-]+|connection)"')


def check_ids() -> set[str]:
    ids: set[str] = set()
    for path in (ROOT / "wizard" / "checks").rglob("*.py"):
        ids |= set(CHECK_ID.findall(path.read_text()))
    for path in sorted((ROOT / "wizard" / "services").glob("*.py")):
        ids |= set(CHECK_ID.findall(path.read_text()))
    return ids


def test_the_check_ids_are_found() -> None:
    ids = check_ids()
    assert {"auth.secret", "access.least-privilege", "contract.start-date", "connection"} <= ids
    # access.<entity> ids are built from the entity names: add them.
    assert len(ids) >= 15


def test_every_check_id_is_in_the_catalogue() -> None:
    catalogue = (ROOT / "docs" / "checks.md").read_text()
    from wizard.steps.security_level import NEEDS

    ids = check_ids() | {f"access.{n.entity.lower()}" for n in NEEDS}
    missing = sorted(i for i in ids if f"`{i}`" not in catalogue)
    assert not missing, f"docs/checks.md does not document: {missing}"


def test_every_setting_is_in_env_example_and_readme() -> None:
    settings_py = (ROOT / "config" / "settings.py").read_text()
    names = set(re.findall(r'env\.\w+\("([A-Z_]+)"', settings_py))
    names |= set(re.findall(r'_(?:required|flag)\("([A-Z_]+)"', settings_py))
    names |= set(re.findall(r'env\.\w+\(\s*"([A-Z_]+)"', settings_py))
    example = (ROOT / ".env.example").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "SECRET_KEY" in names and "AUTOTASK_INTEGRATION_CODE" in names
    for name in sorted(names):
        assert re.search(rf"^#?\s*{name}=", example, re.M), f".env.example lacks {name}"
        assert name in readme, f"README lacks {name}"


def _section(text: str, heading: str) -> str:
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[start : end if end != -1 else None]


def test_every_nosec_is_listed_in_the_security_doc() -> None:
    """docs/security.md says which `# nosec` exemptions the code carries, and why."""
    listed = _section((ROOT / "docs" / "security.md").read_text(), "## Static analysis in CI")
    found = []
    for path in sorted([*(ROOT / "wizard").rglob("*.py"), *(ROOT / "config").rglob("*.py")]):
        for rule in re.findall(r"#\s*nosec\b\s*([A-Z]\d+)?", path.read_text()):
            found.append((str(path.relative_to(ROOT)), rule))
    for path_name, rule in found:
        assert rule, f"{path_name}: a # nosec must name the rule it exempts"
        assert f"`{path_name}`" in listed and f"`{rule}`" in listed, (
            f"docs/security.md (Static analysis in CI) does not list the # nosec {rule} in "
            f"{path_name}"
        )
    # And no row for an exemption the code no longer has.
    assert listed.count("| `wizard/") + listed.count("| `config/") == len(found)


def test_the_docs_state_the_rule_for_accounts_without_an_email() -> None:
    """The code refuses them an invitation (tests/views/test_manage.py); the docs say so."""
    for doc in ("security.md", "manage.md"):
        text = " ".join((ROOT / "docs" / doc).read_text().split())
        assert "An account without an e-mail address is refused the same way" in text, doc
        assert "without an e-mail address is not checked" not in text, doc
