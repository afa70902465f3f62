"""Who may call which API operation: the expected outcome of every endpoint for every role.

`sijill/security/tests/test_permission_matrix.py` walks the OpenAPI schema of the one NinjaAPI
and calls every operation as every role. An operation with no rule here fails that test, so a
new endpoint cannot ship without someone deciding who may call it.

Outcomes:
- "allow": the call is not refused for permission (2xx, or 4xx other than 401/403/404 — a
  conflict or a validation error about the input is fine).
- "deny": 401 for the anonymous caller; 403, or 404 where the object is hidden from this caller
  (no existence leak), for everyone else. The body must not carry the object's data.

Roles are the test actors: the fixture objects (a household in Rabat, its members, an enrolment
held at centre A) sit in centre A's provinces, and the citizen is NOT a member of that household,
so rules on object paths are object-level checks too (another person's record, another
household, another centre's provinces).
"""

from __future__ import annotations

ROLES: tuple[str, ...] = (
    "anonymous", "citizen", "agent_a", "agent_b", "verifier", "reviewer", "program", "partner",
    "analyst", "admin",
)
ALLOW, DENY = "allow", "deny"


def only(*allowed: str) -> dict[str, str]:
    """Allow the named roles, deny every other (the anonymous caller is always denied)."""
    unknown = set(allowed) - set(ROLES)
    assert not unknown, f"unknown roles {unknown}"
    return {role: ALLOW if role in allowed else DENY for role in ROLES}


STAFF_READERS = ("agent_a", "agent_b", "verifier", "reviewer", "admin")
# Household rules: agents only in their centre's provinces (agent_b is in Kénitra), citizens only
# on their own household (this citizen is not a member), verifiers and reviewers read everywhere.
HOUSEHOLD_READERS = ("agent_a", "verifier", "reviewer", "admin")
HOUSEHOLD_WRITERS = ("agent_a", "admin")

#: The only operations an anonymous caller may call: reference data, never personal data. Every
#: other rule refuses the anonymous caller (the matrix test checks both).
PUBLIC: frozenset[tuple[str, str]] = frozenset({("GET", "/api/v1/declaration/vocabulary")})

RULES: dict[tuple[str, str], dict[str, str]] = {
    # Reference data with no personal data: anyone, signed in or not (see PUBLIC).
    ("GET", "/api/v1/declaration/vocabulary"): dict.fromkeys(ROLES, ALLOW),
    # Population register
    ("POST", "/api/v1/persons"): only("agent_a", "agent_b", "admin"),
    ("GET", "/api/v1/persons"): only(*STAFF_READERS),
    # Another person's record: the citizen gets 404; programs, partners and analysts 403.
    ("GET", "/api/v1/persons/{idcs}"): only(*STAFF_READERS),
    ("GET", "/api/v1/persons/{idcs}/history"): only(*STAFF_READERS),
    ("POST", "/api/v1/persons/{idcs}/death"): only("partner", "admin"),
    ("GET", "/api/v1/enrolments/held"): only("agent_a", "agent_b", "admin"),
    ("POST", "/api/v1/enrolments/{reference}/decision"): only("agent_a", "admin"),
    ("POST", "/api/v1/identity/verify"): only("partner", "admin"),
    # Social registry. Registration: the citizen registers a household they declare themselves
    # (the test body names them); agent_b is refused a commune outside Kénitra.
    ("POST", "/api/v1/households"): only("citizen", "agent_a", "admin"),
    ("GET", "/api/v1/households/{reference}"): only(*HOUSEHOLD_READERS),
    ("POST", "/api/v1/households/{reference}/submit"): only(*HOUSEHOLD_WRITERS),
    ("POST", "/api/v1/households/{reference}/declarations"): only(*HOUSEHOLD_WRITERS),
    ("POST", "/api/v1/households/{reference}/members"): only(*HOUSEHOLD_WRITERS),
    ("DELETE", "/api/v1/households/{reference}/members/{idcs}"): only(*HOUSEHOLD_WRITERS),
    ("GET", "/api/v1/households/{reference}/memberships"): only(*HOUSEHOLD_READERS),
    ("GET", "/api/v1/households/{reference}/history"): only(*HOUSEHOLD_READERS),
    ("GET", "/api/v1/households/{reference}/declarations"): only(*HOUSEHOLD_READERS),
    ("GET", "/api/v1/households/{reference}/declarations/{version}"): only(*HOUSEHOLD_READERS),
    # Processing steps (to "verifying" in the test) are the verifier's; cancelling is the
    # declarant's or an agent's (HOUSEHOLD_REGISTER), tested in the households app.
    ("POST", "/api/v1/households/{reference}/transitions"): only("verifier", "admin"),
    # Scoring. A household's index: its own citizen, agents of its province, administrators
    # (verifiers and reviewers have no SCORE_READ). Formulas and runs hold aggregates only:
    # analysts and administrators; activation (rescoring everyone) is the administrator's.
    ("GET", "/api/v1/households/{reference}/score"): only("agent_a", "admin"),
    ("GET", "/api/v1/households/{reference}/score/explanation"): only("agent_a", "admin"),
    ("GET", "/api/v1/scoring/formulas"): only("analyst", "admin"),
    ("POST", "/api/v1/scoring/formulas"): only("analyst", "admin"),
    ("GET", "/api/v1/scoring/formulas/{pk}"): only("analyst", "admin"),
    ("GET", "/api/v1/scoring/formulas/{pk}/export"): only("analyst", "admin"),
    ("POST", "/api/v1/scoring/formulas/{pk}/impact"): only("analyst", "admin"),
    ("POST", "/api/v1/scoring/formulas/{pk}/activate"): only("admin"),
    ("GET", "/api/v1/scoring/runs"): only("analyst", "admin"),
    ("GET", "/api/v1/scoring/runs/{pk}"): only("analyst", "admin"),
    # Retrying a run: impact reports (the test's run) are the analyst's too; a rescore run
    # needs FORMULA_ACTIVATE (administrators).
    ("POST", "/api/v1/scoring/runs/{pk}/retry"): only("analyst", "admin"),
    # Deduplication. A sweep over the whole register is the administrator's; agents review and
    # decide clusters (persons are national: no province limit, like person reads).
    ("POST", "/api/v1/dedup/runs"): only("admin"),
    ("GET", "/api/v1/dedup/runs"): only("agent_a", "agent_b", "admin"),
    ("GET", "/api/v1/dedup/runs/{run_id}"): only("agent_a", "agent_b", "admin"),
    ("GET", "/api/v1/dedup/clusters"): only("agent_a", "agent_b", "admin"),
    ("GET", "/api/v1/dedup/clusters/{cluster_id}"): only("agent_a", "agent_b", "admin"),
    ("POST", "/api/v1/dedup/clusters/{cluster_id}/decision"): only("agent_a", "agent_b", "admin"),
    # Programs. The "program" caller holds a token bound to the program in the path (another
    # program's token gets 404: tested in sijill/programs/tests/test_api.py). Administrators
    # manage programs and issue tokens; analysts read rules and simulate (aggregates only).
    ("GET", "/api/v1/programs"): only("analyst", "admin"),
    ("POST", "/api/v1/programs"): only("admin"),
    ("GET", "/api/v1/programs/{code}"): only("program", "analyst", "admin"),
    ("PATCH", "/api/v1/programs/{code}"): only("admin"),
    ("POST", "/api/v1/programs/{code}/tokens"): only("admin"),
    ("POST", "/api/v1/programs/{code}/simulations"): only("analyst", "admin"),
    ("GET", "/api/v1/programs/{code}/eligibility/{idcs}"): only("program", "admin"),
    ("GET", "/api/v1/programs/{code}/eligibility/{idcs}/history"): only("program", "admin"),
    ("GET", "/api/v1/programs/{code}/eligible"): only("program", "admin"),
    ("GET", "/api/v1/programs/{code}/eligible/export"): only("program", "admin"),
    ("POST", "/api/v1/programs/{code}/applications"): only("program", "admin"),
    ("PATCH", "/api/v1/programs/{code}/applications/{pk}"): only("program", "admin"),
    ("POST", "/api/v1/programs/{code}/subscriptions"): only("program", "admin"),
    ("GET", "/api/v1/programs/{code}/subscriptions"): only("program", "admin"),
    ("DELETE", "/api/v1/programs/{code}/subscriptions/{pk}"): only("program", "admin"),
    # Verification with partner bodies. Agents work the discrepancy queue of their centre's
    # provinces (agent_b gets an empty list, and a 404 for a Rabat household's verification);
    # verifiers and administrators everywhere. A decision without a body is refused for
    # permission first (403) or else for its input (422), so it is "allow" for those roles.
    ("GET", "/api/v1/verification/discrepancies"): only("agent_a", "agent_b", "verifier",
                                                          "admin"),
    ("POST", "/api/v1/verification/discrepancies/decision"): only("agent_a", "agent_b",
                                                                  "verifier", "admin"),
    ("GET", "/api/v1/households/{reference}/verification"): only("agent_a", "verifier", "admin"),
    # The accesses to one's own data: citizens (an administrator's account has no person: an
    # empty list). Object-level: only the caller's own data (sijill/audit/tests).
    ("GET", "/api/v1/me/accesses"): only("citizen", "admin"),
    # Notifications. The time limit of index notices and the outbox's figures: operators
    # (analysts, administrators). A citizen's own notices (an administrator's account has no
    # person: an empty list).
    ("GET", "/api/v1/notifications/deadlines"): only("analyst", "admin"),
    ("GET", "/api/v1/notifications/outbox"): only("analyst", "admin"),
    ("GET", "/api/v1/me/notices"): only("citizen", "admin"),
    # Citizen services (sijill/cases). The citizen's own household and complaints: citizens
    # only (the test citizen has no household: an empty answer). Changes and review requests
    # on the Rabat household: its declarant, or agent_a on their behalf (the household is not
    # notified in the matrix: a request is refused for its window, 422). Reviews: reviewers
    # decide everywhere; agents read their provinces. The matrix review (open, unassigned) and
    # complaint are about the Rabat household (sijill/cases/tests/factories.matrix_cases).
    ("GET", "/api/v1/me/household"): only("citizen"),
    ("GET", "/api/v1/me/household/history"): only("citizen"),
    ("GET", "/api/v1/me/complaints"): only("citizen"),
    ("POST", "/api/v1/households/{reference}/changes"): only(*HOUSEHOLD_WRITERS),
    ("POST", "/api/v1/households/{reference}/reviews"): only("agent_a", "admin"),
    ("GET", "/api/v1/households/{reference}/reviews"): only("agent_a", "reviewer", "admin"),
    ("GET", "/api/v1/reviews"): only("agent_a", "agent_b", "reviewer", "admin"),
    ("GET", "/api/v1/reviews/{review_ref}"): only("agent_a", "reviewer", "admin"),
    ("POST", "/api/v1/reviews/{review_ref}/assignment"): only("reviewer", "admin"),
    ("POST", "/api/v1/reviews/{review_ref}/evidence"): only("reviewer", "admin"),
    ("POST", "/api/v1/reviews/{review_ref}/decision"): only("reviewer", "admin"),
    # Filing: the citizen in their own name; agent_b is refused the Rabat household (404).
    ("POST", "/api/v1/complaints"): only("citizen", "agent_a", "admin"),
    ("GET", "/api/v1/complaints"): only("agent_a", "agent_b", "reviewer", "admin"),
    ("GET", "/api/v1/complaints/{complaint_ref}"): only("agent_a", "reviewer", "admin"),
    ("POST", "/api/v1/complaints/{complaint_ref}/assignment"): only("agent_a", "reviewer",
                                                                     "admin"),
    ("POST", "/api/v1/complaints/{complaint_ref}/answer"): only("agent_a", "reviewer", "admin"),
}

# Rules the code does not honour yet: each is a reported bug, run as a strict xfail, so the
# test starts failing (XPASS) the day it is fixed and the entry must be removed.
KNOWN_GAPS: dict[tuple[str, str, str], str] = {}
