"""Signals of the social registry, sent after commit (verification and scoring subscribe).

    household_submitted(sender=Household, household_id, reference, version)
        A declaration version was submitted for verification (first registration or update).
    household_changed(sender=Household, household_id, reference, version, reason)
        Membership or declaration changed in any way (including deaths and moves).
"""

from django.dispatch import Signal

household_submitted = Signal()
household_changed = Signal()
