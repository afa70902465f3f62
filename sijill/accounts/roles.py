"""Roles and the one permission model used by the API and the portal alike."""

from __future__ import annotations

from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CITIZEN = "citizen", _("Citizen")
    AGENT = "agent", _("Service-centre agent")
    VERIFIER = "verifier", _("Verifier")
    REVIEWER = "reviewer", _("Reviewer")
    PROGRAM = "program", _("Social program")
    PARTNER = "partner", _("Partner administration")
    ANALYST = "analyst", _("Analyst")
    ADMIN = "admin", _("Administrator")


class Perm(StrEnum):
    """What an actor may do. Object-level limits (own household, own provinces) sit on top."""

    PERSON_ENROL = "person.enrol"
    PERSON_READ = "person.read"
    PERSON_SEARCH = "person.search"
    ACCESSES_READ_OWN = "audit.accesses_own"  # who accessed one's own data, and why
    PERSON_RECORD_DEATH = "person.record_death"
    ENROLMENT_DECIDE = "enrolment.decide"
    IDENTITY_VERIFY = "identity.verify"
    HOUSEHOLD_REGISTER = "household.register"  # register, add/remove members, update
    HOUSEHOLD_READ = "household.read"
    HOUSEHOLD_PROCESS = "household.process"  # move through verifying/scored/notified/rejected
    ROLLOUT_MANAGE = "rollout.manage"  # set when registration opens in a region/province/commune
    VERIFICATION_READ = "verification.read"  # partner evidence and the discrepancy queue
    VERIFICATION_DECIDE = "verification.decide"  # confirm or dismiss a discrepancy
    SCORE_READ = "score.read"  # a household's index and its explanation (object-level limits)
    FORMULA_MANAGE = "formula.manage"  # formula versions: list, import, export; impact reports
    FORMULA_ACTIVATE = "formula.activate"  # activate a version (rescores the whole registry)
    PROGRAM_MANAGE = "program.manage"  # create and change programs, their rules and tokens
    PROGRAM_SIMULATE = "program.simulate"  # targeting simulator (aggregates only)
    PROGRAM_ACCESS = "program.access"  # a program token: its own program's eligibility data
    DEDUP_RUN = "dedup.run"  # start a population-wide duplicate sweep
    DEDUP_REVIEW = "dedup.review"  # read sweep reports and the queue of probable duplicates
    DEDUP_DECIDE = "dedup.decide"  # merge a cluster (retire IDCS) or mark it distinct
    NOTICE_MONITOR = "notice.monitor"  # the outbox in figures, households late for their notice
    NOTICE_READ_OWN = "notice.read_own"  # a citizen's own notices
    REVIEW_REQUEST = "review.request"  # ask a review of a household's index (own / on behalf)
    REVIEW_READ = "review.read"  # reviews and their steps (object-level limits)
    REVIEW_DECIDE = "review.decide"  # assign, add evidence, confirm or correct and rescore
    COMPLAINT_FILE = "complaint.file"  # file a complaint (own / at a centre / by phone)
    COMPLAINT_READ = "complaint.read"  # complaints and their steps (object-level limits)
    COMPLAINT_HANDLE = "complaint.handle"  # assign and answer complaints


GRANTS: dict[str, frozenset[Perm]] = {
    Role.CITIZEN: frozenset({Perm.PERSON_READ, Perm.HOUSEHOLD_REGISTER, Perm.HOUSEHOLD_READ,
                             Perm.NOTICE_READ_OWN,
                             Perm.SCORE_READ, Perm.REVIEW_REQUEST, Perm.REVIEW_READ,
                             Perm.COMPLAINT_FILE, Perm.COMPLAINT_READ, Perm.ACCESSES_READ_OWN}),
    Role.AGENT: frozenset({Perm.PERSON_ENROL, Perm.PERSON_READ, Perm.PERSON_SEARCH,
                           Perm.ENROLMENT_DECIDE, Perm.HOUSEHOLD_REGISTER,
                           Perm.HOUSEHOLD_READ, Perm.SCORE_READ, Perm.DEDUP_REVIEW,
                           Perm.DEDUP_DECIDE, Perm.VERIFICATION_READ, Perm.VERIFICATION_DECIDE,
                           Perm.REVIEW_REQUEST, Perm.REVIEW_READ,
                           Perm.COMPLAINT_FILE, Perm.COMPLAINT_READ, Perm.COMPLAINT_HANDLE}),
    Role.VERIFIER: frozenset({Perm.PERSON_READ, Perm.PERSON_SEARCH, Perm.HOUSEHOLD_READ,
                              Perm.HOUSEHOLD_PROCESS, Perm.VERIFICATION_READ,
                              Perm.VERIFICATION_DECIDE}),
    Role.REVIEWER: frozenset({Perm.PERSON_READ, Perm.PERSON_SEARCH, Perm.HOUSEHOLD_READ,
                              Perm.REVIEW_READ, Perm.REVIEW_DECIDE, Perm.COMPLAINT_READ,
                              Perm.COMPLAINT_HANDLE}),
    Role.PROGRAM: frozenset({Perm.PROGRAM_ACCESS}),  # bound to one program (ProgramToken)
    Role.PARTNER: frozenset({Perm.IDENTITY_VERIFY, Perm.PERSON_RECORD_DEATH}),
    Role.ANALYST: frozenset({Perm.FORMULA_MANAGE, Perm.PROGRAM_SIMULATE,
                             Perm.NOTICE_MONITOR}),  # aggregates only
    Role.ADMIN: frozenset(Perm),
}
