"""Receivers of the cross-app signals (sijill.core.events): each queues one notice.

Signals are sent after their sender's commit and may be sent again (a redone task): every
receiver queues under a key derived from what happened, so a repeat queues nothing new.

- household_scored (reason registration, update or review) → the index notice, key
  "index_notice:<household>:<score>"; the household becomes "notified" when it has left.
- review_decided → the review outcome, key "review_outcome:<review>".
- complaint_answered → the answer, key "complaint_answer:<complaint>".
- eligibility_changed → the change, key "eligibility_change:<household>:<program>:<n>"; a repeat
  of the last change of that program (same eligibility) queues nothing.
- eligibility_changes (the same changes, once per re-decision of a program) → the same notices,
  queued in batches (`notices_queue_many`); the per-household signals that follow it for those
  very changes are then skipped without a query.

The cases app is read through apps.get_model, so this app does not import it: a ScoreReview
(household, requester, decision, decision_note, new_score or score, reference) and a Complaint
(complainant, household, reference, response); either may define `notice_context() -> dict`
to choose the context itself.
"""

from __future__ import annotations

import functools
import logging
import threading
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone, translation

from sijill.core.events import (
    complaint_answered,
    eligibility_changed,
    eligibility_changes,
    household_scored,
    review_decided,
)
from sijill.notifications.models import Kind, Notification

logger = logging.getLogger(__name__)

INDEX_NOTICE_REASONS = frozenset({"registration", "update", "review"})
#: A new score of the household's own file after it was notified (a late partner answer or a
#: decided discrepancy; a member's death): told when the index it shows has changed, so the
#: notice, the portal and the review window agree. A formula rescore ("rescore") changes every
#: household's index at once and sends no notice here (see the notifications README).
CHANGE_NOTICE_REASONS = frozenset({"verification", "death"})


def _logged(receiver_func: Any) -> Any:
    """A notice that cannot be addressed (no phone, no household, no e-mail) is logged, not
    raised: the sender's work is committed and other receivers must still run."""

    @functools.wraps(receiver_func)
    def wrapper(sender: Any, **kwargs: Any) -> Notification | None:
        try:
            return receiver_func(sender, **kwargs)
        except ValueError as exc:
            ids = {k: v for k, v in kwargs.items() if k.endswith("_id") or k == "reason"}
            logger.warning("%s: no notice (%s) for %s", receiver_func.__name__, exc, ids)
            return None

    return wrapper


def _index(value: float) -> str:
    return f"{value:.4f}"


def _last_notified_index(household_id: int) -> str | None:
    """The index (as written in the notice) of the household's last index notice."""
    context = (Notification.objects.filter(household_id=household_id, kind=Kind.INDEX_NOTICE)
               .order_by("-pk").values_list("context", flat=True).first())
    return None if context is None else context.get("index")


@receiver(household_scored, dispatch_uid="notifications.index_notice")
@_logged
def on_household_scored(sender: Any, household_id: int, score_id: int, reason: str,
                        **kwargs: Any) -> Notification | None:
    if reason not in INDEX_NOTICE_REASONS | CHANGE_NOTICE_REASONS:
        return None
    from sijill.households.models import Household
    from sijill.notifications.services import notice_queue

    Score = apps.get_model("scoring", "Score")
    with transaction.atomic():
        household = (Household.objects.select_related("declarant", "commune")
                     .filter(pk=household_id).first())
        score = Score.objects.filter(pk=score_id).only("value", "provisional").first()
        if household is None or score is None or household.status in (
                Household.Status.CANCELLED, Household.Status.REJECTED):
            return None
        if reason in CHANGE_NOTICE_REASONS:
            # One change notice at a time per household (two rescores finishing together
            # compare with the notice the other just queued), and never an outdated index.
            Household.objects.select_for_update().filter(pk=household_id).first()
            if Score.objects.filter(household_id=household_id, pk__gt=score_id).exists():
                return None
            if _last_notified_index(household.pk) == _index(score.value):
                # The notice the household holds still states its index: it stays notified.
                from sijill.notifications.services import household_mark_notified

                household_mark_notified(household_id=household_id)
                return None
        review_until = timezone.localdate() + timedelta(
            days=settings.SIJILL.get("REVIEW_WINDOW_DAYS", 60))
        return notice_queue(
            kind=Kind.INDEX_NOTICE, household=household, key=f"index_notice:{household_id}:"
            f"{score_id}", context={"index": _index(score.value), "score_id": score_id,
                                    "reason": reason, "provisional": bool(score.provisional),
                                    "review_until": review_until.strftime("%d/%m/%Y")})


def _case(models: tuple[str, ...], pk: int) -> Any:
    for name in models:
        try:
            Model = apps.get_model("cases", name)
        except LookupError:
            continue
        return Model.objects.filter(pk=pk).first()
    logger.warning("cases.%s is not installed: no notice for %s", models[0], pk)
    return None


def _display(case: Any, name: str) -> str:
    display = getattr(case, f"get_{name}_display", None)
    value = display() if callable(display) else getattr(case, name, None)
    return "" if value is None else str(value)


@receiver(review_decided, dispatch_uid="notifications.review_outcome")
@_logged
def on_review_decided(sender: Any, review_id: int, **kwargs: Any) -> Notification | None:
    from sijill.notifications.services import notice_queue

    review = _case(("ScoreReview", "Review"), review_id)
    if review is None:
        return None
    with translation.override(review.household.notice_language):  # the outcome's label
        if hasattr(review, "notice_context"):
            context = dict(review.notice_context())
        else:
            score = getattr(review, "new_score", None) or getattr(review, "score", None)
            context = {"outcome": _display(review, "decision"), "review": review.reference,
                       "note": getattr(review, "decision_note", "")}
            if score is not None:
                context["index"] = _index(score.value)
    with transaction.atomic():
        return notice_queue(kind=Kind.REVIEW_OUTCOME, household=review.household,
                            person=getattr(review, "requester", None), context=context,
                            key=f"review_outcome:{review_id}")


@receiver(complaint_answered, dispatch_uid="notifications.complaint_answer")
@_logged
def on_complaint_answered(sender: Any, complaint_id: int, **kwargs: Any) -> Notification | None:
    from sijill.notifications.services import notice_queue

    complaint = _case(("Complaint",), complaint_id)
    if complaint is None:
        return None
    if hasattr(complaint, "notice_context"):
        context = dict(complaint.notice_context())
    else:
        context = {"complaint": getattr(complaint, "reference", str(complaint_id)),
                   "answer": getattr(complaint, "response", "")}
    with transaction.atomic():
        return notice_queue(kind=Kind.COMPLAINT_ANSWER,
                            household=getattr(complaint, "household", None),
                            person=getattr(complaint, "complainant", None), context=context,
                            key=f"complaint_answer:{complaint_id}")


# The changes the batch receiver just queued, per program, in this thread: the per-household
# signal sent right after it for the same change is skipped (each entry is used once; a new
# batch of the program forgets the previous one's leftovers).
_batched = threading.local()


def _handled(program_code: str) -> set[tuple[int, bool]]:
    if not hasattr(_batched, "by_program"):
        _batched.by_program = {}
    return _batched.by_program.setdefault(program_code, set())


@receiver(eligibility_changed, dispatch_uid="notifications.eligibility_change")
@_logged
def on_eligibility_changed(sender: Any, household_id: int, program_code: str, eligible: bool,
                           **kwargs: Any) -> Notification | None:
    from sijill.households.models import Household
    from sijill.notifications.services import notice_queue

    handled = _handled(program_code)
    if (household_id, bool(eligible)) in handled:
        handled.discard((household_id, bool(eligible)))
        return None  # queued a moment ago by the batch receiver (on_eligibility_changes)
    Program = apps.get_model("programs", "Program")
    with transaction.atomic():
        household = (Household.objects.select_for_update(of=("self",))
                     .select_related("declarant", "commune").filter(pk=household_id).first())
        if household is None or household.status == Household.Status.CANCELLED:
            return None
        earlier = list(Notification.objects.filter(
            household=household, kind=Kind.ELIGIBILITY_CHANGE,
            key__startswith=f"eligibility_change:{household_id}:{program_code}:")
            .order_by("-id").values_list("context", flat=True)[:1])
        if earlier and earlier[0].get("eligible") == bool(eligible):
            return None  # the same change again
        count = Notification.objects.filter(
            key__startswith=f"eligibility_change:{household_id}:{program_code}:").count()
        program = Program.objects.filter(code=program_code).first()
        name = program.name(household.notice_language) if program else program_code
        return notice_queue(kind=Kind.ELIGIBILITY_CHANGE, household=household,
                            context={"program": name, "program_code": program_code,
                                     "eligible": bool(eligible)},
                            key=f"eligibility_change:{household_id}:{program_code}:{count + 1}")


BATCH = 1000


@receiver(eligibility_changes, dispatch_uid="notifications.eligibility_changes")
def on_eligibility_changes(sender: Any, program_code: str, changes: list[tuple[int, bool]],
                           **kwargs: Any) -> int:
    """The changes of one re-decision, queued in batches of BATCH households: the same notices,
    keys and rules as `on_eligibility_changed` (a repeat of the last change is dropped; the
    households are locked so a concurrent change numbers after this one). Returns how many
    notices were queued."""
    from sijill.households.models import Household
    from sijill.notifications.services import NoticeSpec, notices_queue_many

    handled = _handled(program_code)
    handled.clear()
    Program = apps.get_model("programs", "Program")
    program = Program.objects.filter(code=program_code).first()
    latest: dict[int, bool] = {}
    for household_id, eligible in changes:  # the last word on each household counts
        latest[int(household_id)] = bool(eligible)
    ids = sorted(latest)
    queued = 0
    for start in range(0, len(ids), BATCH):
        part = ids[start:start + BATCH]
        with transaction.atomic():
            households = list(Household.objects.select_for_update(of=("self",))
                              .select_related("declarant", "commune").filter(pk__in=part)
                              .exclude(status=Household.Status.CANCELLED).order_by("pk"))
            earlier: dict[int, list[tuple[int, bool]]] = {}
            for pk, household_id, key, context in (Notification.objects.filter(
                    kind=Kind.ELIGIBILITY_CHANGE, household_id__in=part,
                    key__contains=f":{program_code}:")
                    .values_list("pk", "household_id", "key", "context")):
                if key.startswith(f"eligibility_change:{household_id}:{program_code}:"):
                    earlier.setdefault(household_id, []).append(
                        (pk, bool((context or {}).get("eligible"))))
            specs = []
            for household in households:
                eligible = latest[household.pk]
                before = sorted(earlier.get(household.pk, []))
                if before and before[-1][1] == eligible:
                    continue  # the same change again
                name = (program.name(household.notice_language) if program
                        else program_code)
                specs.append(NoticeSpec(
                    kind=Kind.ELIGIBILITY_CHANGE, household=household,
                    context={"program": name, "program_code": program_code,
                             "eligible": eligible},
                    key=f"eligibility_change:{household.pk}:{program_code}:{len(before) + 1}"))
            queued += len(notices_queue_many(notices=specs))
        done = set(part)
        handled.update((int(h), bool(e)) for h, e in changes if int(h) in done)
    return queued
