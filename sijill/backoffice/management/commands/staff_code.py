"""Print the current TOTP code of a staff account's authenticator: the demo's way past the
second factor without a phone. Refused outside the dev profile."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP

from sijill.accounts.models import User
from sijill.backoffice.otp import confirmed_device


class Command(BaseCommand):
    help = "Print the current six-digit code of a staff account's authenticator (dev only)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PROFILE != "dev":
            raise CommandError("staff_code only runs in the dev profile (the demo).")
        user = User.objects.filter(username=options["username"]).first()
        device = confirmed_device(user) if user else None
        if device is None:
            raise CommandError("No such account, or it has no authenticator yet.")
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        self.stdout.write(f"{totp.token():0{device.digits}d}")
