"""Back-office test helpers: staff clients signed in with both factors, and the roles the
shared conftest lacks (reviewer, verifier)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from sijill.testing import factories


def totp_now(device: TOTPDevice) -> str:
    """The code the staff member's authenticator shows now."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def signed_in(user: Any) -> Client:
    """A client signed in as `user` with a confirmed authenticator (both factors passed)."""
    client = Client()
    client.force_login(user)
    device = (TOTPDevice.objects.filter(user=user, confirmed=True).first()
              or TOTPDevice.objects.create(user=user, name="test", confirmed=True))
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def reviewer(db: Any) -> Any:
    return factories.user_create(username="reviewer", role="reviewer")


@pytest.fixture
def verifier(db: Any) -> Any:
    return factories.user_create(username="verifier", role="verifier")


def discrepancy_create(household: Any, *, field: str = "cars", declared: Any = 0,
                       verified: Any = 2, severity: str = "high",
                       partner: str = "vehicles") -> Any:
    """An open discrepancy on the household's current declaration, as verification records it
    (a partner check answered with a value that differs from the declared one)."""
    from datetime import timedelta

    from django.utils import timezone

    from sijill.households.models import DeclarationVersion
    from sijill.verification.models import Discrepancy, Evidence, PartnerCheck, Verification

    declaration = DeclarationVersion.objects.get(household=household,
                                                 version=household.current_version)
    verification = (Verification.objects.filter(declaration=declaration).first()
                    or Verification.objects.create(household=household, declaration=declaration,
                                                   deadline=timezone.now() + timedelta(days=3)))
    check = PartnerCheck.objects.create(verification=verification, partner=partner)
    evidence = Evidence.objects.create(partner_check=check, household=household,
                                       partner=partner, attempt=1, outcome="answer",
                                       answer={field: verified}, received_at=timezone.now())
    return Discrepancy.objects.create(verification=verification, household=household,
                                      evidence=evidence, partner=partner, field=field,
                                      declared=declared, verified=verified, severity=severity)


def cluster_create(persons: list[Any], *, band: str = "high", probability: float = 0.99) -> Any:
    """An open duplicate cluster of `persons` from a finished sweep."""
    from sijill.dedup.models import ClusterMember, DedupRun, DuplicateCluster

    run = DedupRun.objects.create(status="done", created_by="test", progress=1.0)
    cluster = DuplicateCluster.objects.create(run=run, band=band, size=len(persons),
                                              min_probability=probability, max_weight=12.0,
                                              pairs=[])
    for p in persons:
        ClusterMember.objects.create(cluster=cluster, run=run, person=p, match_weight=12.0,
                                     match_probability=probability)
    return cluster
