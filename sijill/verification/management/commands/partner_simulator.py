"""Run the partner simulator: `manage.py partner_simulator [--port N] [--data DIR]`."""

from __future__ import annotations

import signal
from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.core.management.base import BaseCommand

from sijill.verification import conf
from sijill.verification.simulator import PartnerSimulator


class Command(BaseCommand):
    help = ("Serve the partner bodies' simulator (water and electricity, telecom, vehicles, "
            "land, social security, civil status, schools) from synthetic partner records.")

    def add_arguments(self, parser: Any) -> None:
        default_port = urlparse(conf.get("PARTNER_URL")).port or 8751
        parser.add_argument("--port", type=int, default=default_port)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--data", default=str(settings.VAR_DIR / "synthetic"),
                            help="Folder with the synthetic truth (searched recursively).")
        parser.add_argument("--latency-ms", type=float, default=0.0)

    def handle(self, *args: Any, port: int, host: str, data: str, latency_ms: float,
               **options: Any) -> None:
        simulator = PartnerSimulator(data=data, host=host, port=port, latency_ms=latency_ms)
        counts = simulator.records.counts()
        self.stdout.write(f"partner simulator on http://{host}:{simulator.port} "
                          f"({sum(counts.values()):,} records from {data})", ending="\n")
        self.stdout.flush()

        def stop(*_: Any) -> None:
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, stop)
        try:
            simulator.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            simulator.server.server_close()
