"""The staff second factor: TOTP devices (django-otp), their enrolment and the QR code."""

from __future__ import annotations

import io
import re
from base64 import b32encode

import qrcode
import qrcode.image.svg
from django.db import transaction
from django.utils.safestring import SafeString, mark_safe
from django_otp.plugins.otp_totp.models import TOTPDevice

from sijill.accounts.auth import actor_for_user
from sijill.accounts.models import User
from sijill.audit.services import audit_record

DEVICE_NAME = "authenticator"


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-id").first()


def pending_device(user: User, device_id: int | None) -> TOTPDevice:
    """The unconfirmed device being enrolled (kept across page loads), or a fresh one."""
    device = None
    if device_id is not None:
        device = TOTPDevice.objects.filter(pk=device_id, user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def secret_base32(device: TOTPDevice) -> str:
    return b32encode(device.bin_key).decode()


def grouped(secret: str) -> str:
    """The secret in groups of four, easier to type into an authenticator by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def qr_svg(text: str, *, label: str) -> SafeString:
    """An inline SVG QR code (no data: URL: the content security policy allows none)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10,
                        border=4)
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    svg = re.sub(r"^<\?xml[^>]*\?>\s*", "", svg)
    svg = svg.replace("<svg ", '<svg class="qr" role="img" focusable="false" ', 1)
    title = (label.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
    svg = re.sub(r"(<svg[^>]*>)", rf'\1<title>{title}</title><rect width="100%" '
                 r'height="100%" fill="#ffffff"/>', svg, count=1)
    return mark_safe(svg)  # noqa: S308 (generated here from our own QR encoder, label escaped)


def device_confirm(*, user: User, device: TOTPDevice, token: str) -> bool:
    """Confirm an enrolled device with a first code; other devices of the user are removed
    (one authenticator per account). Audited."""
    if not device.verify_token(token):
        return False
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        audit_record(actor=actor_for_user(user), action="enrol_totp", entity="user",
                     entity_id=user.pk)
    return True


def demo_authenticator(user: User) -> TOTPDevice:
    """The demo's authenticator of a staff account (created confirmed on first call, kept
    afterwards): `seed_demo` prints its key and otpauth URI so a tester can add it to an app,
    and `manage.py staff_code USER` prints its current code (dev profile only)."""
    device = confirmed_device(user)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="demo authenticator", confirmed=True)
    return device
