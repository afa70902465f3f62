"""Authentication for the API: Django session (with CSRF) or a bearer token."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_save
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from sijill.accounts.actors import Actor
from sijill.accounts.models import ApiToken, ServiceCentre, User, hash_token

#: How long a process keeps a centre's provinces (an agent's scope) without asking again.
#: A change of a centre's provinces clears its entry at once in this process (m2m_changed);
#: other processes see it within this time.
CENTRE_PROVINCES_TTL = 60


def _centre_key(centre_id: int) -> str:
    return f"accounts:centre-provinces:{centre_id}"


def centre_provinces(centre_id: int) -> frozenset[str]:
    """The province codes a centre serves, cached per process (asked on every request)."""
    key = _centre_key(centre_id)
    provinces = cache.get(key)
    if provinces is None:
        provinces = frozenset(ServiceCentre.provinces.through.objects
                              .filter(servicecentre_id=centre_id)
                              .values_list("province_id", flat=True))
        cache.set(key, provinces, CENTRE_PROVINCES_TTL)
    return provinces  # type: ignore[no-any-return]


@receiver(post_save, sender=ServiceCentre)
def _centre_saved(sender: Any, instance: ServiceCentre, **kwargs: Any) -> None:
    cache.delete(_centre_key(instance.pk))  # a new centre may reuse the id of a deleted one


@receiver(m2m_changed, sender=ServiceCentre.provinces.through)
def _centre_provinces_changed(sender: Any, instance: Any, pk_set: Any, **kwargs: Any) -> None:
    if isinstance(instance, ServiceCentre):
        cache.delete(_centre_key(instance.pk))
    else:  # changed from the province's side: any centre may be concerned
        for centre_id in pk_set or ServiceCentre.objects.values_list("pk", flat=True):
            cache.delete(_centre_key(centre_id))


def actor_for_user(user: User) -> Actor:
    provinces: frozenset[str] = frozenset()
    if user.centre_id:
        provinces = centre_provinces(user.centre_id)
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
