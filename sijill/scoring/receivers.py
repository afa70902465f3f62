"""Receivers of scoring: none today.

A submitted declaration is no longer scored on submission: the verification app
(`sijill.verification`) receives `household_submitted`, asks the partners, and scores the
declaration with the verified values once every partner answered or the verification deadline
passed (`scoring.services.score_compute_verified`). `tasks.score_household_task` stays for an
operator to score one household's declaration by hand.
"""
