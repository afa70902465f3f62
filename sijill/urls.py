from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

from sijill.core.api import api
from sijill.core.views import health
from sijill.households.api import router as households_router
from sijill.population.api import router as population_router
from sijill.programs.api import router as programs_router
from sijill.scoring.api import router as scoring_router

api.add_router("/v1/", population_router)
api.add_router("/v1/", households_router)
api.add_router("/v1/", scoring_router)
api.add_router("/v1/", programs_router)
api.add_router("/v1/", "sijill.dedup.api.router")

handler404 = "sijill.core.views.not_found"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("healthz", health),
    # Until the portal lands, the front door is the API documentation.
    path("", RedirectView.as_view(url="/api/docs", permanent=False)),
]
