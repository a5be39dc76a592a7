"""The customer picker's reads from Autotask: company search and a company's contracts."""

from __future__ import annotations

import logging
from typing import Any

from wizard.autotask import (
    AutotaskClient,
)
from wizard.autotask.dates import local_date
from wizard.models import (
    Tenant,
)
from wizard.services.answers import list_names_fill
from wizard.services.autotask import client_for, watch_auth

logger = logging.getLogger(__name__)


def company_search(
    *, tenant: Tenant, query: str, after: int = 0, page_size: int = 20
) -> tuple[list[dict[str, Any]], int | None]:
    """Active customer companies whose name contains ``query``, by id, one page at a time.

    Returns the page and the id to continue after (None on the last page). Keyset paging on id
    keeps every page one call, whatever the number of companies.
    """
    client = client_for(tenant, "search")
    with watch_auth(tenant):
        found = _company_search(client, query=query, after=after, page_size=page_size)
    # Hand-typed rows of these companies get the names Autotask just gave.
    list_names_fill(tenant=tenant, companies=_names(found[0], "companyName"))
    return found


def _company_search(
    client: AutotaskClient, *, query: str, after: int, page_size: int
) -> tuple[list[dict[str, Any]], int | None]:
    filters: list[dict[str, Any]] = [
        {"op": "eq", "field": "isActive", "value": True},
        {"op": "gt", "field": "id", "value": after},
    ]
    customer = client.picklist_value("Companies", "companyType", "Customer")
    if customer is not None:
        filters.append({"op": "eq", "field": "companyType", "value": int(customer)})
    if query.strip():
        filters.append({"op": "contains", "field": "companyName", "value": query.strip()[:100]})
    page = client.query_page(
        "Companies", filters, include_fields=["id", "companyName"], max_records=page_size
    )
    items = sorted(page.items, key=lambda c: int(c["id"]))
    more = page.next_page_url is not None or len(items) > page_size
    items = items[:page_size]
    return items, (int(items[-1]["id"]) if more and items else None)


def contract_choices(*, tenant: Tenant, company_id: int) -> list[dict[str, Any]]:
    """The contracts of one company, labelled with their type and status for the picker.

    ``startDay``/``endDay`` are the contract's dates in the tenant's time zone (None while the
    zone is not set: Autotask's timestamps alone do not say which day they are).
    """
    client = client_for(tenant, "search")
    with watch_auth(tenant):
        rows = _contract_choices(client, company_id)
    list_names_fill(tenant=tenant, contracts=_names(rows, "contractName"))
    for row in rows:
        for field, day in (("startDate", "startDay"), ("endDate", "endDay")):
            row[day] = local_date(row.get(field), tenant.time_zone) if tenant.time_zone else None
    return rows


def _names(rows: list[dict[str, Any]], field: str) -> dict[int, str]:
    return {int(r["id"]): str(r[field]) for r in rows if r.get("id") and r.get(field)}


def _contract_choices(client: AutotaskClient, company_id: int) -> list[dict[str, Any]]:
    rows = client.query(
        "Contracts",
        [{"op": "eq", "field": "companyID", "value": company_id}],
        include_fields=["id", "contractName", "contractType", "status", "startDate", "endDate"],
        max_pages=2,
    )
    fields = {f.name.lower(): f for f in client.entity_fields("Contracts")}
    labels = {
        name: {p.value: p.label for p in fields[name].picklist} if name in fields else {}
        for name in ("contracttype", "status")
    }
    for row in rows:
        row["typeLabel"] = labels["contracttype"].get(str(row.get("contractType")), "")
        row["statusLabel"] = labels["status"].get(str(row.get("status")), "")
    return sorted(rows, key=lambda r: int(r["id"]))
