"""Signals of the social registry, sent after commit (verification and scoring subscribe).

    household_submitted(sender=Household, household_id, reference, version)
        A declaration version was submitted for verification (first registration or update).
    households_submitted(sender=Household, household_ids, version)
        Households written in bulk (the file import), announced a chunk at a time: each one's
        `version` was submitted for verification.
    household_changed(sender=Household, household_id, reference, version, reason)
        Membership or declaration changed in any way (including deaths and moves).
"""

from django.dispatch import Signal

household_submitted = Signal()
households_submitted = Signal()
household_changed = Signal()
