"""Words for the audit trail's codes, for the citizen's "who accessed my data" page."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext_lazy as _

from sijill.accounts.roles import Role

register = template.Library()

ACTIONS = {
    "read": _("read your household's file"),
    "read_history": _("read your registration's history"),
    "read_declarations": _("listed your household's declarations"),
    "read_declaration": _("read one of your household's declarations"),
    "read_members": _("read your household's members"),
    "read_score": _("read your index"),
    "read_explanation": _("read your index's explanation"),
    "read_eligibility": _("read your eligibility"),
    "read_eligibility_history": _("read your eligibility history"),
    "register": _("registered your household"),
    "submit": _("submitted your household's registration"),
    "update_declaration": _("recorded an update of your declaration"),
    "transition": _("moved your registration to its next step"),
    "enrol": _("enrolled you in the population register"),
    "verify_identity": _("checked your identity"),
    "sign_in": _("signed in to the portal"),
    "read_accesses": _("read who accessed your data"),
    "compute": _("computed your index"),
    "create": _("recorded your data"),
    "update": _("changed your data"),
    "declare_change": _("recorded a change in your household"),
    "remove_member": _("removed a member from your household"),
    "record_death": _("recorded a death"),
    "search_hit": _("found you in a search"),
    "hold": _("held an enrolment for a decision"),
    "decide": _("decided on an enrolment"),
    "merge": _("merged duplicate records"),
    "notify": _("sent you a notice"),
    "track": _("looked up your registration's progress"),
    "list_reviews": _("listed the reviews of your index"),
    "read_notices": _("read the notices sent to you"),
    "read_verification": _("read the check of your declaration with partner bodies"),
    "verification_concluded": _("concluded the check of your declaration with partner bodies"),
    "read_discrepancies": _("read differences between your declaration and partners' records"),
    "decide_discrepancy": _("decided on a difference between your declaration and a partner's "
                            "records"),
    "list_eligible": _("listed the households eligible for a program"),
    "export_eligible": _("exported the households eligible for a program"),
    "absorb": _("merged a duplicate record into yours"),
    "retire": _("retired a duplicate record of you"),
    "mark_distinct": _("decided that two similar records are different people"),
    "request": _("recorded a request for a review of your index"),
    "assign": _("assigned your file to an officer"),
    "add_evidence": _("added evidence to the review of your index"),
    "file": _("recorded your complaint"),
    "answer": _("answered your complaint"),
    "escalate": _("escalated your complaint"),
}

#: Where one code means different things for different records.
ENTITY_ACTIONS = {
    ("list", "score_review"): _("listed your review request in the reviewers' queue"),
    ("list", "complaint"): _("listed your complaint in the complaints queue"),
    ("decide", "score_review"): _("decided on the review of your index"),
    ("transition", "score_review"): _("moved the review of your index to its next step"),
    ("transition", "complaint"): _("moved your complaint to its next step"),
}


#: The purposes the system itself records (staff and programs state theirs in their own words,
#: shown as written).
PURPOSES = {
    "own household": _("you, looking at your household"),
    "own data": _("you, looking at your own data"),
    "portal: own household": _("you, looking at your household"),
    "portal: own eligibility": _("you, looking at your eligibility"),
    "portal: own index": _("you, looking at your index"),
    "portal: update own household": _("you, updating your household"),
    "portal_sign_in": _("your sign-in"),
    "sign_in": _("your sign-in"),
    "verification": _("checking your declaration with partner bodies"),
    "discrepancy queue": _("resolving a difference between your declaration and a partner's "
                           "records"),
    "discrepancy review": _("resolving a difference between your declaration and a partner's "
                            "records"),
    "answer to the caller's request": _("answering your request"),
    "probable duplicate check": _("checking for a duplicate record"),
    "duplicate review": _("checking for a duplicate record"),
    "enrolment at a citizen service centre": _("your enrolment at a citizen service centre"),
    "system": _("the automatic processing of your file"),
    "household registration at a citizen service centre": _(
        "registering your household at a citizen service centre"),
}


@register.filter
def purpose_label(purpose: str) -> str:
    """A system purpose in the reader's language; a score review names its file; anything else
    (a staff member's or a program's stated purpose) as written."""
    if not purpose:
        return "—"
    if purpose in PURPOSES:
        return str(PURPOSES[purpose])
    if purpose.startswith("score review "):
        return str(_("review of your index (file %(reference)s)")
                   % {"reference": purpose.removeprefix("score review ")})
    return purpose


@register.filter
def action_label(code: str, entity: str = "") -> str:
    """What was done, in words; a code with no words yet is still shown (never hidden)."""
    words = ENTITY_ACTIONS.get((code, entity)) or ACTIONS.get(code)
    return str(words or _("accessed your data (%(code)s)") % {"code": code})


@register.filter
def role_label(code: str) -> str:
    if code == "system":
        return str(_("Sijill (automatic processing)"))
    try:
        return str(Role(code).label)
    except ValueError:
        return code
