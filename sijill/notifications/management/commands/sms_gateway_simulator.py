"""`manage.py sms_gateway_simulator [--port 8025] [--token T]`: serve the local SMS gateway
simulator (point SIJILL_SMS_BACKEND=sijill.notifications.backends.HttpSmsGatewayBackend and
SIJILL_SMS_GATEWAY_URL=http://127.0.0.1:8025 at it)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from sijill.notifications.gateway_simulator import SmsGatewaySimulator


class Command(BaseCommand):
    help = "Serve the local SMS gateway simulator (honours Idempotency-Key)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", type=int, default=8025)
        parser.add_argument("--token", default="")

    def handle(self, *args: Any, port: int, token: str, **options: Any) -> None:
        with SmsGatewaySimulator(port=port, token=token) as gateway:
            self.stdout.write(f"SMS gateway simulator on {gateway.url}/messages (Ctrl-C stops)")
            try:
                while True:
                    time.sleep(1)
            except KeyboardInterrupt:
                self.stdout.write(f"{len(gateway.delivered)} messages delivered")
