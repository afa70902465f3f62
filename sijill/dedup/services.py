"""Writers of duplicate detection: start and execute a run, merge a cluster, mark it distinct.

A merge keeps one IDCS (the survivor) and retires the others: each retired person gets status
"retired" and `merged_into` the survivor, a new PersonVersion says so, and nothing is deleted.
What referenced a retired person:

- household memberships (past and current) move to the survivor, and so do the household's
  current head and declarant; the immutable declaration versions and member declarations stay
  on the retired IDCS, which points to the survivor (`identities_of` gives every IDCS of a
  person, to read history across a merge);
- children's parent links move to the survivor (the child gets a new version); witness links
  stay (who witnessed an enrolment is a historical fact);
- scores belong to households and follow them; audit entries keep the retired IDCS as subject
  and `identities_of` finds them.

Every decision is audited, in the same transaction.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterable
from datetime import timedelta
from functools import partial
from itertools import combinations
from typing import Any

import polars as pl
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.forms.models import model_to_dict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sijill.accounts.actors import Actor
from sijill.accounts.roles import Perm
from sijill.audit.services import audit_record
from sijill.core.errors import Conflict, NotFound, ValidationFailed
from sijill.dedup import linkage, sources
from sijill.dedup.models import ClusterMember, DedupRun, DistinctPair, DuplicateCluster
from sijill.households.models import Household, Membership
from sijill.population.models import Person, PersonVersion

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------
# Runs


def run_start(*, actor: Actor, params: linkage.LinkageParams | None = None,
              enqueue: bool = True) -> DedupRun:
    """Create a pending run and enqueue its task when the transaction commits."""
    actor.require(Perm.DEDUP_RUN)
    params = params or linkage.LinkageParams()
    if not 0 < params.threshold < 1:
        raise ValidationFailed.single("threshold", "out_of_range",
                                      _("The threshold is a probability between 0 and 1."))
    runs_recover(actor=actor, enqueue=enqueue)  # a run whose worker died does not block
    try:
        with transaction.atomic():
            run = DedupRun.objects.create(parameters=params.as_json(), created_by=actor.label)
            audit_record(actor=actor, action="start", entity="dedup_run", entity_id=run.pk,
                         detail={"threshold": params.threshold})
    except IntegrityError as exc:
        raise Conflict(_("A deduplication run is already pending or running.")) from exc
    if enqueue:
        from sijill.dedup.tasks import dedup_run_task

        pk = run.pk
        transaction.on_commit(lambda: _enqueue(dedup_run_task, pk))
    return run


def _enqueue(task: Any, run_id: int) -> None:
    result = task.enqueue(run_id=run_id)
    DedupRun.objects.filter(pk=run_id, task_id="").update(task_id=str(result.id)[:64])


#: A running attempt that gave no sign of life for this long is taken to be dead (its worker was
#: killed, the machine restarted). Signs of life come at every stage; on a loaded machine a 1M
#: register's prediction has taken 4 minutes, so the margin is wide.
STALE_AFTER = timedelta(minutes=30)
#: Attempts of one run before it is left failed.
MAX_ATTEMPTS = 3


class Superseded(Exception):
    """This attempt was declared dead and the run handed to another: stop without writing."""


def this_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


def _worker_is_dead(worker: str) -> bool:
    """True only when the worker ran on this host and its process is gone."""
    host, _sep, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def run_is_stale(run: DedupRun, *, now: Any = None) -> bool:
    """A running run whose worker died: its process is gone (same host), or no sign of life for
    `STALE_AFTER`."""
    if run.status != DedupRun.Status.RUNNING:
        return False
    now = now or timezone.now()
    seen = run.heartbeat_at or run.started_at or run.created_at
    return _worker_is_dead(run.worker) or seen < now - STALE_AFTER


def _progress(run_id: int, attempt: int, stage: str, fraction: float) -> None:
    """Record the stage (a sign of life); stop if the run was handed to another attempt."""
    updated = DedupRun.objects.filter(pk=run_id, attempt=attempt,
                                      status=DedupRun.Status.RUNNING).update(
        stage=stage, progress=max(0.0, min(1.0, fraction)), heartbeat_at=timezone.now())
    if not updated:
        raise Superseded(f"dedup run {run_id}: attempt {attempt} was superseded")


def run_execute(run_id: int, *, spark: Any = None) -> DedupRun:
    """Execute a pending run (the task body; also `manage.py dedup_run`). Safe to call again: a
    finished run is returned unchanged, a run another live worker is executing too; a run whose
    worker died (`run_is_stale`) is taken over as a new attempt. Clusters are written in one
    transaction by the attempt that still owns the run, and the database refuses a person twice
    in one run's clusters, so a retry never duplicates them."""
    with transaction.atomic():
        run = DedupRun.objects.select_for_update().get(pk=run_id)
        if run.status in (DedupRun.Status.DONE, DedupRun.Status.FAILED):
            return run
        if run.status == DedupRun.Status.RUNNING and not run_is_stale(run):
            return run
        if run.attempt >= MAX_ATTEMPTS:
            run.status = DedupRun.Status.FAILED
            run.error = f"gave up after {run.attempt} attempts (worker died)"
            run.finished_at = timezone.now()
            run.save(update_fields=["status", "error", "finished_at"])
            return run
        run.status = DedupRun.Status.RUNNING
        run.attempt += 1
        run.worker = this_worker()
        run.started_at = run.heartbeat_at = timezone.now()
        run.stage, run.progress = "read", 0.0
        run.save(update_fields=["status", "attempt", "worker", "started_at", "heartbeat_at",
                                "stage", "progress"])
    attempt = run.attempt
    try:
        params = linkage.LinkageParams(**run.parameters)
        frame = sources.register_frame()
        _progress(run_id, attempt, "read", 0.05)
        if frame.height < 2:
            result = None
        else:
            result = linkage.deduplicate(
                frame, params, exclude_pairs=_distinct_pairs_frame(), spark=spark,
                progress=lambda stage, f: _progress(run_id, attempt, stage, 0.05 + 0.85 * f))
        _progress(run_id, attempt, "save", 0.92)
        with transaction.atomic():
            run = DedupRun.objects.select_for_update().get(pk=run_id)
            if run.attempt != attempt or run.status != DedupRun.Status.RUNNING:
                raise Superseded(f"dedup run {run_id}: attempt {attempt} was superseded")
            _save_result(run, result)
            run.status = DedupRun.Status.DONE
            run.stage = "done"
            run.progress = 1.0
            run.finished_at = timezone.now()
            run.save()
    except Superseded:
        logger.warning("dedup run %s: attempt %s superseded, nothing written", run_id, attempt)
        return DedupRun.objects.get(pk=run_id)
    except Exception as exc:
        logger.exception("dedup run %s failed", run_id)
        DedupRun.objects.filter(pk=run_id, attempt=attempt).update(
            status=DedupRun.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now())
        raise
    return run


def runs_recover(*, actor: Actor, enqueue: bool = True) -> list[int]:
    """Hand every stale run (its worker died) to a new attempt: back to pending and enqueued
    again, or failed once it has had `MAX_ATTEMPTS`. Periodic (`dedup.recover_runs`) and called
    before a new run starts, so a dead run never blocks the queue. Returns the runs retried."""
    retried: list[int] = []
    with transaction.atomic():
        for run in DedupRun.objects.select_for_update().filter(status=DedupRun.Status.RUNNING):
            if not run_is_stale(run):
                continue
            detail = {"attempt": run.attempt, "worker": run.worker, "stage": run.stage}
            if run.attempt >= MAX_ATTEMPTS:
                run.status = DedupRun.Status.FAILED
                run.error = f"gave up after {run.attempt} attempts (worker died)"
                run.finished_at = timezone.now()
                run.save(update_fields=["status", "error", "finished_at"])
                audit_record(actor=actor, action="give_up", entity="dedup_run",
                             entity_id=run.pk, detail=detail)
                continue
            run.status = DedupRun.Status.PENDING
            run.stage = "retry"
            run.task_id = ""
            run.save(update_fields=["status", "stage", "task_id"])
            audit_record(actor=actor, action="retry", entity="dedup_run", entity_id=run.pk,
                         detail=detail)
            retried.append(run.pk)
    if enqueue and retried:
        from sijill.dedup.tasks import dedup_run_task

        for pk in retried:
            transaction.on_commit(partial(_enqueue, dedup_run_task, pk))
    return retried


def run_retry(*, actor: Actor, run_id: int, enqueue: bool = True) -> DedupRun:
    """Start a failed run again (a new attempt with the same parameters)."""
    actor.require(Perm.DEDUP_RUN)
    runs_recover(actor=actor, enqueue=enqueue)
    try:
        with transaction.atomic():
            run = DedupRun.objects.select_for_update().filter(pk=run_id).first()
            if run is None:
                raise NotFound(_("No deduplication run has this number."))
            if run.status != DedupRun.Status.FAILED:
                raise Conflict(_("Only a failed run can be retried."))
            run.status = DedupRun.Status.PENDING
            run.attempt = 0
            run.error = ""
            run.task_id = ""
            run.finished_at = None
            run.save(update_fields=["status", "attempt", "error", "task_id", "finished_at"])
            audit_record(actor=actor, action="retry", entity="dedup_run", entity_id=run.pk)
    except IntegrityError as exc:
        raise Conflict(_("A deduplication run is already pending or running.")) from exc
    if enqueue:
        from sijill.dedup.tasks import dedup_run_task

        transaction.on_commit(lambda: _enqueue(dedup_run_task, run_id))
    return run


def _distinct_pairs_frame() -> pl.DataFrame:
    rows = list(DistinctPair.objects.values_list("person_a_id", "person_b_id"))
    return pl.DataFrame(rows, schema={"unique_id_l": pl.Int64, "unique_id_r": pl.Int64},
                        orient="row")


def _save_result(run: DedupRun, result: linkage.LinkageResult | None) -> None:
    """Store the clusters (and their members and pairs) of a finished run; supersede the open
    clusters of earlier runs (their persons are proposed again if still alike)."""
    DuplicateCluster.objects.filter(status=DuplicateCluster.Status.OPEN).exclude(run=run) \
        .update(status=DuplicateCluster.Status.SUPERSEDED)
    by_band = {band: 0 for band, _floor in linkage.BANDS}
    if result is None or result.clusters.height == 0:
        run.by_band = by_band
        run.records = result.records if result else 0
        run.pairs = result.pairs.height if result else 0
        if result is not None:
            run.model, run.seconds = result.model, result.seconds
        return
    threshold = run.parameters.get("threshold", linkage.RECOMMENDED_THRESHOLD)
    member_of = dict(zip(result.clusters["unique_id"].to_list(),
                         result.clusters["cluster_id"].to_list(), strict=True))
    pairs = result.pairs.filter(pl.col("match_probability") >= threshold)
    ids = sorted(member_of)
    idcs = dict(Person.objects.filter(pk__in=ids).values_list("pk", "idcs"))
    grouped: dict[int, list[dict[str, Any]]] = {}
    for row in pairs.iter_rows(named=True):
        cid = member_of.get(row["unique_id_l"])
        if cid is None or member_of.get(row["unique_id_r"]) != cid:
            continue
        grouped.setdefault(cid, []).append(row)
    clusters: list[DuplicateCluster] = []
    members: list[tuple[int, list[tuple[int, float, float]]]] = []
    for cid, rows in grouped.items():
        best: dict[int, tuple[float, float]] = {}
        for r in rows:
            for pid in (r["unique_id_l"], r["unique_id_r"]):
                if pid not in best or r["match_weight"] > best[pid][0]:
                    best[pid] = (r["match_weight"], r["match_probability"])
        weakest = min(r["match_probability"] for r in rows)
        band = linkage.band_of(weakest)
        by_band[band] += 1
        clusters.append(DuplicateCluster(
            run=run, band=band, size=len(best), min_probability=weakest,
            max_weight=max(r["match_weight"] for r in rows),
            pairs=[{"l": idcs[r["unique_id_l"]], "r": idcs[r["unique_id_r"]],
                    "match_weight": round(r["match_weight"], 3),
                    "match_probability": r["match_probability"],
                    "evidence": r["evidence"]} for r in rows]))
        members.append((cid, [(pid, w, p) for pid, (w, p) in best.items()]))
    created = DuplicateCluster.objects.bulk_create(clusters, batch_size=500)
    ClusterMember.objects.bulk_create(
        [ClusterMember(cluster=cluster, run=run, person_id=pid, match_weight=w,
                       match_probability=p)
         for cluster, (_cid, rows) in zip(created, members, strict=True) for pid, w, p in rows],
        batch_size=2000)
    run.records = result.records
    run.pairs = result.pairs.height
    run.clusters = len(created)
    run.duplicates = sum(c.size - 1 for c in created)
    run.by_band = by_band
    run.model = result.model
    run.seconds = result.seconds


# ---------------------------------------------------------------------------------------------
# Decisions


def _open_cluster(cluster_id: int) -> DuplicateCluster:
    cluster = DuplicateCluster.objects.select_for_update().filter(pk=cluster_id).first()
    if cluster is None:
        raise NotFound(_("No duplicate cluster has this number."))
    if cluster.status != DuplicateCluster.Status.OPEN:
        raise Conflict(_("This cluster has already been decided."))
    return cluster


def _snapshot(person: Person) -> dict[str, Any]:
    data = model_to_dict(person, exclude=["id"])
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items()}


def _new_version(person: Person, actor: Actor, reason: str) -> None:
    person.version += 1
    person.save()
    PersonVersion.objects.create(person=person, version=person.version, data=_snapshot(person),
                                 reason=reason[:40], actor_label=actor.label)


def _active_membership(person_id: int) -> Membership | None:
    return Membership.objects.filter(person_id=person_id, end_date__isnull=True).first()


def choose_survivor(persons: list[Person]) -> Person:
    """The IDCS that survives a merge, by rule: a person still alive over a deceased one, then
    the one holding a CNIE or residence card, then the one in a household, then the oldest
    enrolment."""
    in_household = set(Membership.objects.filter(
        person__in=persons, end_date__isnull=True).values_list("person_id", flat=True))
    return min(persons, key=lambda p: (p.status != Person.Status.ACTIVE,
                                       not (p.cnie or p.residence_card),
                                       p.pk not in in_household, p.created_at, p.pk))


def cluster_merge(*, actor: Actor, cluster_id: int, survivor_idcs: str | None = None,
                  retire_idcs: Iterable[str] | None = None, reason: str = "") -> DuplicateCluster:
    """Merge a cluster: one IDCS survives (the agent's choice or `choose_survivor`), the others
    (all, or `retire_idcs`) are retired into it. Members left out are marked distinct from the
    survivor."""
    actor.require(Perm.DEDUP_DECIDE)
    with transaction.atomic():
        cluster = _open_cluster(cluster_id)
        persons = list(Person.objects.select_for_update().filter(
            pk__in=cluster.members.values_list("person_id", flat=True)).order_by("pk"))
        by_idcs = {p.idcs: p for p in persons}
        retired_already = [p.idcs for p in persons if p.status == Person.Status.RETIRED]
        if retired_already:
            raise Conflict(_("A member of this cluster was already merged; the cluster is out "
                             "of date. Run the sweep again."))
        if survivor_idcs is not None:
            if survivor_idcs not in by_idcs:
                raise ValidationFailed.single("survivor_idcs", "not_a_member",
                                              _("The survivor must be a member of the cluster."))
            survivor = by_idcs[survivor_idcs]
        else:
            survivor = choose_survivor(persons)
        wanted = set(retire_idcs) if retire_idcs is not None else set(by_idcs) - {survivor.idcs}
        if not wanted <= set(by_idcs) or survivor.idcs in wanted or not wanted:
            raise ValidationFailed.single(
                "retire_idcs", "not_members",
                _("Name one or more members of the cluster, other than the survivor."))
        for idcs in sorted(wanted):
            _retire(by_idcs[idcs], survivor, actor, cluster)
        for other in (p for p in persons if p.idcs not in wanted and p.pk != survivor.pk):
            _distinct(survivor, other, actor, cluster, reason)
        cluster.status = DuplicateCluster.Status.MERGED
        cluster.survivor = survivor
        cluster.decided_by = actor.label
        cluster.decided_at = timezone.now()
        cluster.decision_reason = reason[:300]
        cluster.save()
        audit_record(actor=actor, action="merge", entity="duplicate_cluster",
                     entity_id=cluster.pk, subject=survivor.idcs,
                     detail={"survivor": survivor.idcs, "retired": sorted(wanted)})
    return cluster


def _retire(person: Person, survivor: Person, actor: Actor, cluster: DuplicateCluster) -> None:
    if person.status == Person.Status.DECEASED and survivor.status == Person.Status.ACTIVE:
        raise Conflict(_("A deceased person cannot be merged into a living one: keep the "
                         "deceased record as the survivor, or correct the death first."))
    mine = _active_membership(person.pk)
    theirs = _active_membership(survivor.pk)
    if mine is not None and theirs is not None and mine.household_id != theirs.household_id:
        raise Conflict(_("Both persons belong to a household. Remove one of them from their "
                         "household before merging."))
    if mine is not None and theirs is not None:  # same household twice: keep the survivor's
        Membership.objects.filter(pk=mine.pk).update(
            end_date=max(mine.start_date, timezone.localdate()), end_reason="left")
    Membership.objects.filter(person_id=person.pk).update(person_id=survivor.pk)
    Household.objects.filter(head_id=person.pk).update(head_id=survivor.pk)
    Household.objects.filter(declarant_id=person.pk).update(declarant_id=survivor.pk)
    for field in ("mother", "father"):
        for child in Person.objects.select_for_update().filter(**{f"{field}_id": person.pk}):
            setattr(child, f"{field}_id", survivor.pk)
            _new_version(child, actor, f"{field}_merged")
    person.status = Person.Status.RETIRED
    person.merged_into = survivor
    person.death_date = None
    _new_version(person, actor, f"merged_into:{survivor.idcs}")
    # The households' current declarations name the survivor from now on (a new version each).
    from sijill.households.identity import households_identity_merged

    households_identity_merged(actor=actor, retired=person, survivor=survivor)
    audit_record(actor=actor, action="retire", entity="person", entity_id=person.idcs,
                 subject=person.idcs,
                 detail={"merged_into": survivor.idcs, "cluster": cluster.pk})
    audit_record(actor=actor, action="absorb", entity="person", entity_id=survivor.idcs,
                 subject=survivor.idcs, detail={"retired": person.idcs, "cluster": cluster.pk})


def _distinct(a: Person, b: Person, actor: Actor, cluster: DuplicateCluster | None,
              reason: str) -> None:
    low, high = sorted((a.pk, b.pk))
    DistinctPair.objects.get_or_create(person_a_id=low, person_b_id=high, defaults={
        "cluster": cluster, "decided_by": actor.label, "reason": reason[:300]})


def cluster_mark_distinct(*, actor: Actor, cluster_id: int, reason: str = ""
                          ) -> DuplicateCluster:
    """The members are different people: every pair of them is recorded distinct and never
    proposed again."""
    actor.require(Perm.DEDUP_DECIDE)
    with transaction.atomic():
        cluster = _open_cluster(cluster_id)
        persons = list(Person.objects.filter(
            pk__in=cluster.members.values_list("person_id", flat=True)).order_by("pk"))
        for a, b in combinations(persons, 2):
            _distinct(a, b, actor, cluster, reason)
        cluster.status = DuplicateCluster.Status.DISTINCT
        cluster.decided_by = actor.label
        cluster.decided_at = timezone.now()
        cluster.decision_reason = reason[:300]
        cluster.save()
        audit_record(actor=actor, action="mark_distinct", entity="duplicate_cluster",
                     entity_id=cluster.pk, detail={"persons": [p.idcs for p in persons]})
    return cluster


# ---------------------------------------------------------------------------------------------
# Reading across merges


def identities_of(person: Person) -> list[str]:
    """Every IDCS that is or was this person: its own and those merged into it (transitively),
    to read history, declarations and audit entries across merges."""
    found = [person.idcs]
    frontier = [person.pk]
    seen = {person.pk}
    while frontier:
        rows = list(Person.objects.filter(merged_into_id__in=frontier)
                    .exclude(pk__in=seen).values_list("pk", "idcs"))
        frontier = [pk for pk, _i in rows]
        seen.update(frontier)
        found.extend(i for _pk, i in rows)
    return found


def final_person(person: Person) -> Person:
    """Follow merged_into to the surviving record."""
    seen = set()
    while person.merged_into_id is not None and person.pk not in seen:
        seen.add(person.pk)
        person = Person.objects.get(pk=person.merged_into_id)
    return person


def pair_is_distinct(a_id: int, b_id: int) -> bool:
    low, high = sorted((a_id, b_id))
    return DistinctPair.objects.filter(Q(person_a_id=low) & Q(person_b_id=high)).exists()


def persons_in_household(person_ids: list[int]) -> set[int]:
    return set(Membership.objects.filter(person_id__in=person_ids, end_date__isnull=True)
               .values_list("person_id", flat=True))
