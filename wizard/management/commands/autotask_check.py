"""Run the wizard's checks from the command line, for support staff and scripts.

The Secret is read from AUTOTASK_SECRET or standard input, never from an argument (arguments
end up in shell history and process lists).

Contract dates are read in the partner's time zone (``--time-zone``, an IANA name such as
Australia/Sydney): Autotask sends each date as the UTC instant of the tenant's local midnight,
and "today" is the partner's today. With the sandbox on, a sandbox username's own zone is the
default; otherwise the option is required as soon as contracts are checked.

Exit status: 0 nothing failed; 1 a check failed (Autotask answered, and the answer is wrong:
an unknown username or a 401 count here); 2 Autotask could not be asked or gave no usable
answer (timeout, unreachable, throttled, broken reply), so the run is incomplete.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from wizard import checks, services
from wizard.autotask.dates import is_time_zone, today_in
from wizard.checks import CheckStatus
from wizard.sandbox import SCENARIOS
from wizard.steps import SYNC_START_MOST_RECENT, SYNC_START_NEXT

EXIT_OK, EXIT_FAILED, EXIT_NO_ANSWER = 0, 1, 2
# Each status in capitals, four wide; "????" for a check that could not be made.
MARK = {s: "????" if s == CheckStatus.UNKNOWN else s.value.upper() for s in CheckStatus}


class Command(BaseCommand):
    help = "Check an Autotask API user (and optionally contracts) the way the wizard does."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True, help="The API user's Username.")
        parser.add_argument(
            "--company",
            type=int,
            action="append",
            default=[],
            help="Autotask company id of a customer (repeatable).",
        )
        parser.add_argument(
            "--contract",
            type=int,
            action="append",
            default=[],
            help="Its Recurring Service contract id, in the same order.",
        )
        parser.add_argument(
            "--annual-contract",
            type=int,
            action="append",
            default=[],
            help="A Fixed Price contract id for Seat Based Annual, paired with "
            "--company in the same order.",
        )
        parser.add_argument(
            "--sync-start",
            choices=[SYNC_START_MOST_RECENT, SYNC_START_NEXT],
            default=SYNC_START_NEXT,
        )
        parser.add_argument(
            "--time-zone",
            default="",
            help="The IANA time zone the partner's Autotask works in, e.g. Australia/Sydney or "
            "America/New_York. Needed to check contracts; with the sandbox on, defaults to the "
            "sandbox user's own zone.",
        )
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args: Any, **options: Any) -> None:
        companies: list[int] = options["company"]
        contracts: list[int] = options["contract"]
        annual_ids: list[int] = options["annual_contract"]
        if contracts and len(contracts) != len(companies):
            raise CommandError("Give one --company for each --contract, in the same order.")
        if annual_ids and not companies:
            raise CommandError("Give the customer's --company for each --annual-contract.")
        time_zone = self._time_zone(options["time_zone"], options["username"])
        if (contracts or annual_ids) and not time_zone:
            raise CommandError(
                "Give --time-zone, the IANA time zone of the partner's Autotask (e.g. "
                "Australia/Sydney): Autotask's contract dates can only be read in it."
            )
        secret = self._secret()
        customers = [
            {"company_id": c, "contract_id": k} for c, k in zip(companies, contracts, strict=True)
        ]
        annual = [
            {"company_id": companies[min(i, len(companies) - 1)], "contract_id": k}
            for i, k in enumerate(annual_ids)
        ] or None
        # No web thread waits on a command: it retries like background work.
        client = services.autotask_client(
            options["username"], secret, scope="cli", purpose="background"
        )
        inputs = checks.Inputs(
            today=today_in(time_zone or "UTC", timezone.now()),
            customers=customers,
            sync_start=options["sync_start"],
            annual=annual,
            time_zone=time_zone,
        )
        by_step = checks.run(client, inputs)
        results = [r for rs in by_step.values() for r in rs]
        if options["format"] == "json":
            self.stdout.write(
                json.dumps(
                    {
                        "username": options["username"],
                        "time_zone": time_zone,
                        "calls": client.calls,
                        "steps": {k: [r.as_dict() for r in rs] for k, rs in by_step.items()},
                    },
                    indent=2,
                )
            )
        else:
            if time_zone:
                self.stdout.write(f"Dates in {time_zone} time.")
            self._print(by_step, client.calls)
        # "unknown" with an error code means Autotask was not usefully asked; "unknown" without
        # one is a check skipped because an earlier one failed.
        if any(r.status == CheckStatus.UNKNOWN and r.error for r in results):
            sys.exit(EXIT_NO_ANSWER)
        if any(r.status == CheckStatus.FAIL for r in results):
            sys.exit(EXIT_FAILED)
        sys.exit(EXIT_OK)

    def _time_zone(self, given: str, username: str) -> str:
        if given:
            if not is_time_zone(given):
                raise CommandError(
                    f"--time-zone {given!r} is not an IANA time zone name (e.g. Australia/Sydney, "
                    "America/New_York)."
                )
            return given
        scenario = SCENARIOS.get(username.strip().lower())
        if settings.AUTOTASK_SANDBOX and scenario is not None:
            # The sandbox tenant's own zone: what its partner would have chosen in step 1.
            return scenario.time_zone
        return ""

    def _secret(self) -> str:
        secret = os.environ.get("AUTOTASK_SECRET", "")
        if not secret:
            if sys.stdin.isatty():
                secret = getpass.getpass("Secret: ")
            else:
                secret = sys.stdin.readline().rstrip("\r\n")
        if not secret.strip():
            raise CommandError("No Secret: set AUTOTASK_SECRET or pipe it on standard input.")
        return secret

    def _print(self, by_step: dict[str, list[checks.CheckResult]], calls: int) -> None:
        for step_key, results in by_step.items():
            self.stdout.write(f"{step_key}:")
            for r in results:
                subject = f" [{r.subject}]" if r.subject else ""
                self.stdout.write(f"  {MARK[r.status]}  {r.id}: {r.title}{subject}")
                if r.status != CheckStatus.PASS:
                    if r.evidence:
                        self.stdout.write(f"        {r.evidence}")
                    if r.fix:
                        self.stdout.write(f"        Fix: {r.fix}")
        self.stdout.write(f"({calls} Autotask calls)")
