"""``manage.py autotask_sandbox``: serve the Autotask sandbox over HTTP on 127.0.0.1.

Useful to watch the wizard talk to "Autotask" over a real socket (set the printed
AUTOTASK_ZONE_INFORMATION_URL and AUTOTASK_SANDBOX=false in the app's environment), or to poke
the emulated API with curl. See docs/sandbox.md.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from wizard.sandbox import (
    DEFAULT_BASE_URL,
    SANDBOX_SECRET,
    SCENARIOS,
    Sandbox,
    serve,
    zone_information_url,
)


class Command(BaseCommand):
    help = "Serve the Autotask REST API sandbox on 127.0.0.1 (see docs/sandbox.md)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--port", type=int, default=8001, help="TCP port on 127.0.0.1 (0 = any free port)."
        )
        parser.add_argument(
            "--latency",
            type=float,
            default=0.0,
            help="Extra seconds added to every answer, on top of the scenario's own latency.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        latency: float = options["latency"]
        if latency < 0:
            raise CommandError("--latency cannot be negative.")
        # The sandbox accepts exactly the integration code the app sends, so both agree.
        sandbox = Sandbox(
            settings.AUTOTASK_INTEGRATION_CODE, base_url=DEFAULT_BASE_URL, latency=latency
        )
        try:
            server, thread = serve(sandbox, port=options["port"])
        except OSError as exc:
            raise CommandError(f"Cannot listen on 127.0.0.1:{options['port']}: {exc}") from exc

        out = self.stdout
        out.write(self.style.SUCCESS(f"Autotask sandbox listening on {sandbox.base_url}"))
        out.write("Point the app at it with:")
        out.write(f"  AUTOTASK_ZONE_INFORMATION_URL={zone_information_url(server)}")
        out.write("  AUTOTASK_SANDBOX=false  (so the app uses HTTP, not the in-process sandbox)")
        out.write("  (the integration code is AUTOTASK_INTEGRATION_CODE from the app's settings)")
        out.write(f"Secret for every user: {SANDBOX_SECRET}")
        out.write("Scenario usernames:")
        width = max(len(name) for name in SCENARIOS)
        for username, scenario in SCENARIOS.items():
            out.write(f"  {username:<{width}}  {scenario.title}: {scenario.description}")
        out.write(f"Request counts: {sandbox.base_url.split('/ATServicesRest/')[0]}/_sandbox/stats")
        out.write("Press Ctrl+C to stop.")
        try:
            while thread.is_alive():
                thread.join(0.5)
        except KeyboardInterrupt:
            out.write("Stopping.")
        finally:
            server.shutdown()
            server.server_close()
