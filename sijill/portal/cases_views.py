"""The citizen's cases on the portal: ask for a review of the index, file and follow complaints.
Thin pages over `sijill.cases` services and selectors (the only writers and audited readers)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats
from django.utils.translation import gettext as _

from sijill.core.errors import NotFound, SijillError
from sijill.portal.forms import ComplaintForm, ReviewForm
from sijill.portal.views import actor_of, citizen_required, error_messages


@citizen_required
def review(request: HttpRequest) -> HttpResponse:
    from sijill.cases import selectors as cases
    from sijill.cases import services as case_services

    actor = actor_of(request)
    tracking = cases.my_household_track(actor=actor)
    if tracking is None:
        return redirect("portal:dashboard")
    form = ReviewForm(request.POST or None)
    errors: list[str] = []
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            made = case_services.review_request(actor=actor,
                                                reference=tracking.household.reference,
                                                reason=form.cleaned_data["reason"])
        except SijillError as error:
            errors, status = error_messages(error), error.status
        else:
            messages.success(request, _("Your review request %(reference)s is recorded. You "
                                        "will be told of the decision.")
                             % {"reference": made.reference})
            return redirect("portal:review")
    elif request.method == "POST":
        status = 422
    history = cases.my_household_history(actor=actor)
    return render(request, "portal/review.html", {
        "tracking": tracking, "form": form, "errors": errors, "nav": "review",
        "reviews": list(reversed(history.reviews)) if history else []}, status=status)


@citizen_required
def complaints(request: HttpRequest) -> HttpResponse:
    from sijill.cases import selectors as cases
    from sijill.cases import services as case_services

    actor = actor_of(request)
    form = ComplaintForm(request.POST or None)
    errors: list[str] = []
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            filed = case_services.complaint_file(actor=actor, **form.cleaned_data)
        except SijillError as error:
            errors, status = error_messages(error), error.status
        else:
            messages.success(request, _("Your complaint %(reference)s is recorded. An answer is "
                                        "due by %(date)s.")
                             % {"reference": filed.reference,
                                "date": formats.date_format(filed.due_on, "DATE_FORMAT")})
            return redirect("portal:complaint", reference=filed.reference)
    elif request.method == "POST":
        status = 422
    return render(request, "portal/complaints.html", {
        "rows": cases.my_complaints(actor=actor), "form": form, "errors": errors,
        "nav": "complaints"}, status=status)


@citizen_required
def complaint(request: HttpRequest, reference: str) -> HttpResponse:
    from sijill.cases import selectors as cases

    try:
        row = cases.complaint_read(actor=actor_of(request), reference=reference)
    except NotFound:
        return render(request, "portal/not_found.html", status=404)
    return render(request, "portal/complaint.html", {
        "complaint": row, "events": list(row.events.order_by("at", "id")),
        "nav": "complaints"})
