"""The staff CSV export: formula payloads in tenant names and usernames come out as text."""

from __future__ import annotations

import csv
import io

import pytest

from tests.conftest import make_user
from tests.test_csv_guard import OWASP_PAYLOADS, cells_as_any_reader_sees_them
from wizard import services
from wizard.csv_guard import INITIATORS, neutralise

pytestmark = pytest.mark.django_db


def test_the_export_neutralises_every_payload_in_names_and_managers(admin_client) -> None:
    usernames = []
    for i, payload in enumerate(OWASP_PAYLOADS):
        manager = make_user(f"{payload}-{i}", is_staff=True)
        usernames.append(manager.get_username())  # as Django stored it (NFKC)
        services.tenant_create(name=payload, account_manager=manager)
    r = admin_client.get("/manage/export.csv")
    body = b"".join(r.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(body, newline="")))
    names = {row[0] for row in rows[1:]}
    assert names == {neutralise(p) for p in OWASP_PAYLOADS}
    assert {row[2] for row in rows[1:]} == {neutralise(u) for u in usernames}
    for cell in cells_as_any_reader_sees_them(body):
        assert not cell or cell[0] not in INITIATORS, cell
