from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import page_not_found

from sijill.core.errors import NotFound


def health(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability, for load balancers and `make demo`."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "database": connection.vendor})


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Unknown API paths answer in the API's one error shape; pages keep Django's 404."""
    if request.path.startswith("/api/"):
        return JsonResponse(NotFound().as_dict(), status=404)
    return page_not_found(request, exception or Http404())
