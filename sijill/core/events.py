"""Signals between apps that must not import each other (sent after commit).

Each is sent with `send_robust` from a `transaction.on_commit` callback by its owner, so a
receiver's failure never undoes the sender's committed work; receivers must be idempotent (a
signal may be sent again when a crashed task is redone).

    household_scored(sender, household_id: int, score_id: int, reason: str)
        A household's current index was computed. `reason`: "registration" (first score of a
        registration), "update" (a declared change), "verification" (a late partner answer or a
        resolved discrepancy), "review" (a reviewer corrected the data), "death", "rescore".
        Sent by scoring/verification; notifications sends the index notice.
    review_decided(sender, review_id: int)
        A reviewer decided a score review (cases). Notifications sends the outcome.
    complaint_answered(sender, complaint_id: int)
        A complaint received its answer (cases). Notifications sends it.
    eligibility_changed(sender, household_id: int, program_code: str, eligible: bool)
        A household's eligibility for a program changed (programs). Notifications tells the
        household.
    eligibility_changes(sender, program_code: str, changes: list[tuple[int, bool]])
        The same changes, once per re-decision of a program, for receivers that work in
        batches (the DCI notifications). Sent with the per-household signals.
"""

from django.dispatch import Signal

household_scored = Signal()
review_decided = Signal()
complaint_answered = Signal()
eligibility_changed = Signal()
eligibility_changes = Signal()
