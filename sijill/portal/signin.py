"""Citizen sign-in: IDCS + a one-time code sent by SMS to the phone on record.

- The code: 6 random digits, valid CODE_TTL, at most MAX_ATTEMPTS guesses, used once; a new
  code supersedes the previous one. Stored as HMAC-SHA256(SECRET_KEY, idcs + code): a copy of
  the table does not give the codes away (6 digits would be brute-forced from a plain hash).
- Rate limits: sending is limited per IDCS and per client address, guessing too
  (`sijill.security.throttle`, database-backed, counted outside the request's transaction).
- The answer to "send me a code" is the same whether or not the IDCS exists or has a phone:
  the page does not tell a stranger who is enrolled.
- Delivery: `sijill.notifications.services.one_time_code_send(person=, code=, purpose=)`.
- A verified code signs in the citizen account of that IDCS (created on first sign-in): a
  `User` with role citizen and `idcs`, so the portal and the API see the same Actor
  (`sijill.accounts.auth.actor_for_user`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sijill.accounts.actors import Actor
from sijill.accounts.models import User
from sijill.accounts.roles import Role
from sijill.audit.services import audit_record
from sijill.core.errors import FieldError, ValidationFailed
from sijill.population.models import Person
from sijill.population.validation import Problems, check_idcs
from sijill.portal.models import SignInCode

CODE_TTL = timedelta(minutes=5)
MAX_ATTEMPTS = 5
PURPOSE = "portal_sign_in"

# (limit, window) per scope. Sending: a few codes per person, more per address (a family or a
# cyber-café shares one). Guessing: attempts per code are also capped by MAX_ATTEMPTS.
LIMITS: dict[str, tuple[int, timedelta]] = {
    "portal.code_send.idcs": (5, timedelta(minutes=15)),
    "portal.code_send.ip": (30, timedelta(minutes=15)),
    "portal.code_verify.idcs": (10, timedelta(minutes=15)),
    "portal.code_verify.ip": (60, timedelta(minutes=15)),
}


def _hit(scope: str, key: str) -> None:
    from sijill.security.throttle import throttle_hit

    limit, window = LIMITS[scope]
    throttle_hit(scope=scope, key=key, limit=limit, window=window)


def code_hash(*, idcs: str, code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{PURPOSE}\x00{idcs}\x00{code}".encode(),
                    hashlib.sha256).hexdigest()


def code_deliver(*, person: Person, code: str) -> None:
    """Hand the code to the notifications app (SMS to the phone on record)."""
    from sijill.notifications.services import one_time_code_send

    one_time_code_send(person=person, code=code, purpose=PURPOSE)


def _idcs_problem(idcs: str) -> None:
    problems = Problems()
    check_idcs(problems, "idcs", idcs)
    if problems:
        raise ValidationFailed(fields=problems.errors)


def signin_code_send(*, idcs: str, client: str) -> None:
    """Send a fresh code to the phone on record of `idcs`, if there is one (says nothing)."""
    idcs = idcs.strip()
    _idcs_problem(idcs)
    _hit("portal.code_send.ip", client)
    _hit("portal.code_send.idcs", idcs)
    person = (Person.objects.filter(idcs=idcs, status=Person.Status.ACTIVE)
              .exclude(phone="").first())
    if person is None:
        return
    if User.objects.filter(idcs=idcs).exclude(role=Role.CITIZEN).exists():
        return  # a staff account: staff sign in with a password and a second factor
    code = f"{secrets.randbelow(1_000_000):06d}"
    now = timezone.now()
    with transaction.atomic():
        SignInCode.objects.filter(idcs=idcs, used_at__isnull=True, superseded=False).update(
            superseded=True)
        # Spent codes are of no use after a day: the table stays small.
        SignInCode.objects.filter(idcs=idcs, created_at__lt=now - timedelta(days=1)).delete()
        SignInCode.objects.create(idcs=idcs, code_hash=code_hash(idcs=idcs, code=code),
                                  created_at=now, expires_at=now + CODE_TTL)
        code_deliver(person=person, code=code)


_WRONG = _("This code is not valid. Check the last SMS you received, or ask for a new code.")


def signin_code_verify(*, idcs: str, code: str, client: str) -> User:
    """Check the code; on success return the citizen account of `idcs` (created if new)."""
    idcs, code = idcs.strip(), code.strip()
    _idcs_problem(idcs)
    _hit("portal.code_verify.ip", client)
    _hit("portal.code_verify.idcs", idcs)
    wrong = ValidationFailed(fields=[FieldError("code", "invalid_code", _WRONG)])
    now = timezone.now()
    row = (SignInCode.objects.filter(idcs=idcs, used_at__isnull=True, superseded=False,
                                     expires_at__gt=now)
           .order_by("-created_at", "-id").first())
    if row is None or row.attempts >= MAX_ATTEMPTS:
        raise wrong
    # Count the attempt first, in its own statement: a failure must not roll it back.
    SignInCode.objects.filter(pk=row.pk).update(attempts=F("attempts") + 1)
    if not (len(code) == 6 and code.isdigit()) or not hmac.compare_digest(
            row.code_hash, code_hash(idcs=idcs, code=code)):
        raise wrong
    with transaction.atomic():
        used = SignInCode.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=now)
        if not used:  # the same code raced in twice: one wins
            raise wrong
        user = User.objects.filter(idcs=idcs).first()
        if user is None:
            user = User(username=f"citizen-{idcs}", role=Role.CITIZEN, idcs=idcs)
            user.set_unusable_password()
            user.save()
        elif user.role != Role.CITIZEN or not user.is_active:
            raise wrong
        audit_record(actor=citizen_actor(user), action="sign_in", entity="account",
                     entity_id=user.pk, subject=idcs, purpose=PURPOSE)
    from sijill.security.throttle import throttle_reset

    throttle_reset(scope="portal.code_verify.idcs", key=idcs)
    return user


def citizen_actor(user: User) -> Actor:
    from sijill.accounts.auth import actor_for_user

    return actor_for_user(user)

