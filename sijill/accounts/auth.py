"""Authentication for the API: Django session (with CSRF) or a bearer token."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from sijill.accounts.actors import Actor
from sijill.accounts.models import ApiToken, User, hash_token


def actor_for_user(user: User) -> Actor:
    provinces: frozenset[str] = frozenset()
    if user.centre_id:
        provinces = frozenset(
            user.centre.provinces.values_list("code", flat=True)  # type: ignore[union-attr]
        )
    return Actor(role=user.role, label=f"user:{user.pk}", user_id=user.pk,
                 centre_id=user.centre_id, province_codes=provinces,
                 idcs=user.idcs)


class StaffSession(SessionAuth):
    """A signed-in user of the web pages calling the API (CSRF enforced by ninja)."""

    def _get_key(self, request: HttpRequest) -> str | None:
        # Without a session there is nobody to protect from CSRF: let the caller be told to
        # sign in (401) rather than fail a CSRF check (403).
        if self.param_name not in request.COOKIES:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = request.user
        if user.is_authenticated and user.is_active:
            actor = actor_for_user(user)  # type: ignore[arg-type]
            request.actor = actor  # type: ignore[attr-defined]
            return actor
        return None


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        row = (ApiToken.objects.filter(key_hash=hash_token(token), revoked_at__isnull=True)
               .only("id", "role", "purpose").first())
        if row is None:
            return None
        actor = Actor(role=row.role, label=f"token:{row.pk}", token_id=row.pk,
                      purpose=row.purpose)
        request.actor = actor  # type: ignore[attr-defined]
        return actor


AUTH = [BearerToken(), StaffSession()]


def token_create(*, name: str, role: str, purpose: str) -> tuple[ApiToken, str]:
    """Create a token and return it with its raw key (shown once, stored hashed)."""
    raw = ApiToken.new_key()
    token = ApiToken.objects.create(name=name, role=role, purpose=purpose,
                                    key_hash=hash_token(raw), prefix=raw[:8])
    return token, raw


def token_revoke(*, token: ApiToken) -> None:
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
