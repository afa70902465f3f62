from django.contrib import admin
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt

from sijill.core.api import api
from sijill.core.views import health, not_found
from sijill.households.api import router as households_router
from sijill.population.api import router as population_router
from sijill.programs.api import router as programs_router
from sijill.scoring.api import router as scoring_router

api.add_router("/v1/", population_router)
api.add_router("/v1/", households_router)
api.add_router("/v1/", scoring_router)
api.add_router("/v1/", programs_router)
api.add_router("/v1/", "sijill.dedup.api.router")
api.add_router("/v1/", "sijill.audit.api.router")
api.add_router("/v1/", "sijill.notifications.api.router")
api.add_router("/v1/", "sijill.verification.api.router")
api.add_router("/v1/", "sijill.cases.api.router")
api.add_router("/v1/", "sijill.declaration.api.router")

handler404 = "sijill.core.views.not_found"

urlpatterns = [
    path("admin/", admin.site.urls),
    # The DCI Social Registry API (its own envelope and errors, outside the NinjaAPI).
    path("api/dci/", include("sijill.dci.urls")),
    path("api/", api.urls),
    # Any other API path, whatever the method: the API's 404 in its error shape, even with
    # DEBUG on (exempt from CSRF: there is nothing to protect, and a write to a wrong path must
    # not get Django's HTML CSRF page instead).
    re_path(r"^api/", csrf_exempt(not_found)),
    path("healthz", health),
    # The language switcher (Django's set_language view, a POST form that works without
    # JavaScript); the language lives in a cookie, URLs carry no language prefix.
    path("i18n/", include("django.conf.urls.i18n")),
    path("backoffice/", include("sijill.backoffice.urls")),
    path("", include("sijill.portal.urls")),
]
