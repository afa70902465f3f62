"""Population-wide duplicate detection with Splink (Fellegi–Sunter, trained without labels).

No Django here: the job hands in an Arrow/Polars frame of persons with the register's columns
(see `INPUT_COLUMNS`) and gets back scored pairs and clusters as Polars frames. The same model
runs on DuckDB (embedded, the default) or on Spark (`backend="spark"`, a SparkSession given).

Comparison columns are prepared once per distinct value (names repeat a lot):

- names: the Arabic blocking key (`normalize.arabic_key`: no diacritics, unified alef/hamza,
  ta marbuta, alef maqsura, no article) and the Latin consonant skeleton (`normalize.latin_key`:
  Mohammed / Mohamed / Mhamed → "mhmd", El/Al dropped) compared exactly, the normalised Latin
  spelling (`normalize.latin`) and the Arabic key compared with Jaro–Winkler;
- birth date: exact, day and month swapped, one part mistyped or a few days off, only the year
  known on one side (a missing day is recorded as year only), a year apart;
- sex, birth place (commune code or the place abroad), parents' links, phone.

Training: u by random sampling (a level never sampled gets the rule-of-three bound), then EM on
two blocking rules (exact birth date: trains the names and the rest; exact names in Arabic and
phone: trains the date). The prior (how many pairs match) is estimated from a deterministic rule
with an assumed recall. Levels that hold relatives (same household, same parents with another
first name) are fixed neutral, and "different households" keeps an assumed m: README.md says
why.

Nothing downloads at run time: the DuckDB connection has extension auto-install and auto-load
switched off; every function used (jaro_winkler_similarity, levenshtein) is built in.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl

from sijill.population import normalize

logger = logging.getLogger(__name__)

#: Columns of the frame handed to `deduplicate` (the register's, keyed as at enrolment).
INPUT_COLUMNS: dict[str, type[pl.DataType]] = {
    "unique_id": pl.Int64, "first_name_ar": pl.String, "family_name_ar": pl.String,
    "first_name_latin": pl.String, "family_name_latin": pl.String, "first_key_ar": pl.String,
    "family_key_ar": pl.String, "first_key_latin": pl.String, "family_key_latin": pl.String,
    "sex": pl.String, "birth_date": pl.Date, "birth_year_only": pl.Boolean,
    "birth_place": pl.String, "mother_id": pl.Int64, "father_id": pl.Int64, "phone": pl.String,
    "has_document": pl.Boolean, "household_id": pl.Int64,
}  # fmt: skip

#: Age from which a person is expected to hold an identity document (CNIE at 18).
ADULT_AGE = 18
#: Years after coming of age before a missing card counts (a card takes time to issue).
DOCUMENT_GRACE_YEARS = 2
#: Clusters are formed from pairs at or above this match probability (see README.md in the
#: app for how it was chosen on the synthetic register).
RECOMMENDED_THRESHOLD = 0.1
#: Prior used when the register is too small to estimate it (about one duplicate per 200
#: persons among n(n-1)/2 pairs of a 10,000-person register).
DEFAULT_PRIOR = 1e-6
#: Pairs below this probability are not even kept from prediction.
PREDICT_FLOOR = 0.05
#: Confidence bands of a cluster, by the weakest link that holds it together.
BANDS: tuple[tuple[str, float], ...] = (("high", 0.99), ("medium", 0.9), ("low", 0.0))


#: m probability of "different households", fixed (not trained): a person belongs to one
#: household at a time, so two records of one person each in a household of its own is an
#: anomaly. Assumed: 5 duplicate pairs in 100 look like that. To be recalibrated from agents'
#: decisions. (Sharing a household is neutral: relatives do.)
HOUSEHOLD_M = 0.05
#: A comparison level fixed at weight 0 (m = u), not trained: no evidence either way.
NEUTRAL: dict[str, Any] = {"m_probability": 0.5, "fix_m_probability": True,
                           "u_probability": 0.5, "fix_u_probability": True}
#: Trained m probabilities below this are raised to it (then renormalised): a level never seen
#: among the matches of a training block must not weigh minus infinity.
M_FLOOR = 0.002


def band_of(probability: float) -> str:
    for name, floor in BANDS:
        if probability >= floor:
            return name
    return BANDS[-1][0]


@dataclass(frozen=True)
class LinkageParams:
    threshold: float = RECOMMENDED_THRESHOLD
    predict_floor: float = PREDICT_FLOOR
    u_max_pairs: float = 5e6
    em_max_pairs: float | None = 2e6
    seed: int = 42
    prior_recall: float = 0.7  # assumed recall of the deterministic rules giving the prior
    backend: str = "duckdb"  # or "spark"

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class LinkageResult:
    pairs: pl.DataFrame  # unique_id_l, unique_id_r, match_weight, match_probability, evidence
    clusters: pl.DataFrame  # cluster_id, unique_id (only clusters of two or more)
    records: int
    seconds: dict[str, float] = field(default_factory=dict)
    model: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# Preparing the comparison columns


def _mapped(column: pl.Series, fn: Callable[[str], str]) -> pl.Series:
    """fn applied once per distinct value; empty results become null."""
    uniques = column.unique().drop_nulls().to_list()
    mapping = {u: (fn(u) or None) for u in uniques}
    return column.replace_strict(mapping, return_dtype=pl.String, default=None)


def _blank_to_null(name: str) -> pl.Expr:
    col = pl.col(name).cast(pl.String)
    return pl.when(col.str.strip_chars() == "").then(None).otherwise(col).alias(name)


def prepare(frame: pl.DataFrame) -> pl.DataFrame:
    """The comparison columns, from the register's columns (`INPUT_COLUMNS`)."""
    missing = [c for c in INPUT_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"missing input columns: {missing}")
    df = frame.select([pl.col(c).cast(t) for c, t in INPUT_COLUMNS.items()])
    df = df.with_columns(
        *[_blank_to_null(c) for c in ("first_key_ar", "family_key_ar", "first_key_latin",
                                      "family_key_latin", "birth_place", "phone", "sex")],
        _mapped(df["first_name_latin"], normalize.latin).alias("first_latin"),
        _mapped(df["family_name_latin"], _family_latin).alias("family_latin"),
    )
    df = df.with_columns(pl.col("has_document").fill_null(False))
    adult_year = date.today().year - ADULT_AGE - DOCUMENT_GRACE_YEARS
    df = df.with_columns((~pl.col("has_document") & (pl.col("birth_date").dt.year() <= adult_year))
                         .alias("adult_without_document"))
    year_only = pl.col("birth_year_only").fill_null(False)
    return df.with_columns(
        pl.col("birth_date").dt.year().cast(pl.Int32).alias("birth_year"),
        pl.when(year_only).then(None).otherwise(pl.col("birth_date").dt.month())
        .cast(pl.Int32).alias("birth_month"),
        pl.when(year_only).then(None).otherwise(pl.col("birth_date").dt.day())
        .cast(pl.Int32).alias("birth_day"),
        pl.when(year_only).then(None).otherwise(pl.col("birth_date").cast(pl.Int32))
        .alias("birth_days"),
        pl.when(year_only).then(None).otherwise(pl.col("birth_date").cast(pl.String))
        .alias("birth_date_text"),
    ).drop("birth_date", "birth_year_only", "first_name_latin", "family_name_latin",
           "first_name_ar", "family_name_ar")


def _family_latin(text: str) -> str:
    """Normalised Latin family name without the article (El Alaoui / Alaoui / Elalaoui)."""
    words = normalize.latin(text).split()
    if len(words) > 1 and words[0] in {"el", "al"}:
        words = words[1:]
    joined = "".join(words)
    if joined[:2] in {"el", "al"} and len(joined) >= 7:
        joined = joined[2:]
    return joined


# ---------------------------------------------------------------------------------------------
# The model


def _name_comparison(label: str, ar_key: str, lat_key: str, lat: str) -> Any:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    return cl.CustomComparison(
        output_column_name=f"{label}_name",
        comparison_description=f"{label} name (Arabic key, Latin skeleton, Jaro-Winkler)",
        comparison_levels=[
            cll.And(cll.NullLevel(ar_key), cll.NullLevel(lat)),
            # Same name written in Arabic (normalised); the Latin transliteration may differ.
            # Term-frequency adjusted: two Mohammeds say less than two Zakariyas.
            cll.ExactMatchLevel(ar_key).configure(
                label_for_charts="same name (Arabic key)",
                tf_adjustment_column=ar_key, tf_adjustment_weight=1.0),
            # Arabic spelling differs but the Latin consonant skeleton agrees.
            cll.ExactMatchLevel(lat_key).configure(
                label_for_charts="same Latin skeleton (Arabic spelling differs)"),
            cll.Or(cll.JaroWinklerLevel(lat, 0.9), cll.JaroWinklerLevel(ar_key, 0.9)).configure(
                label_for_charts="close spelling (Jaro-Winkler >= 0.9)"),
            cll.Or(cll.JaroWinklerLevel(lat, 0.75), cll.JaroWinklerLevel(ar_key, 0.75))
            .configure(label_for_charts="similar spelling (Jaro-Winkler >= 0.75)"),
            cll.ElseLevel(),
        ],
    )


def _documents_comparison() -> Any:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    return cl.CustomComparison(
        output_column_name="documents",
        comparison_description="identity documents held by adults (CNIE or residence card)",
        comparison_levels=[
            cll.CustomLevel("NOT (adult_without_document_l OR adult_without_document_r) AND "
                            "NOT (has_document_l AND has_document_r)").configure(
                is_null_level=True),
            # A second enrolment usually comes through a path that does not check a card
            # (witnesses, birth certificate): otherwise the card would have caught it. An
            # adult enrolled without any document is the unusual side of such a pair.
            cll.CustomLevel("adult_without_document_l OR adult_without_document_r",
                            "an adult without a document on one side"),
            cll.ElseLevel().configure(label_for_charts="both hold (different) documents"),
        ],
    )


def _household_comparison() -> Any:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    return cl.CustomComparison(
        output_column_name="household",
        comparison_description="current household (social registry)",
        comparison_levels=[
            cll.CustomLevel("household_id_l IS NULL OR household_id_r IS NULL").configure(
                is_null_level=True),
            # Relatives share a household: sharing one is no evidence either way (weight 0).
            cll.CustomLevel("household_id_l = household_id_r", "same household")
            .configure(**NEUTRAL),
            cll.ElseLevel().configure(label_for_charts="different households",
                                      m_probability=HOUSEHOLD_M, fix_m_probability=True),
        ],
    )


def _birth_comparison() -> Any:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    full = "birth_days_l IS NOT NULL AND birth_days_r IS NOT NULL"
    return cl.CustomComparison(
        output_column_name="birth_date",
        comparison_description="birth date (swaps, typos, missing day)",
        comparison_levels=[
            cll.NullLevel("birth_year"),
            cll.ExactMatchLevel("birth_date_text").configure(label_for_charts="same birth date"),
            cll.CustomLevel(
                f"{full} AND birth_year_l = birth_year_r AND birth_month_l = birth_day_r "
                "AND birth_day_l = birth_month_r", "day and month swapped"),
            cll.CustomLevel(f"{full} AND abs(birth_days_l - birth_days_r) <= 3",
                            "a few days apart"),
            cll.CustomLevel(
                f"{full} AND ((birth_year_l = birth_year_r AND (birth_month_l = birth_month_r "
                "OR birth_day_l = birth_day_r)) OR (birth_month_l = birth_month_r AND "
                "birth_day_l = birth_day_r AND abs(birth_year_l - birth_year_r) <= 10))",
                "one part mistyped"),
            cll.CustomLevel("(birth_days_l IS NULL OR birth_days_r IS NULL) "
                            "AND birth_year_l = birth_year_r",
                            "same year, day unknown on one side"),
            cll.CustomLevel("abs(birth_year_l - birth_year_r) <= 1", "a year apart or less"),
            cll.ElseLevel(),
        ],
    )


def _parents_comparison() -> Any:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    mother_differs = "(mother_id_l IS NOT NULL AND mother_id_r IS NOT NULL " \
        "AND mother_id_l <> mother_id_r)"
    father_differs = "(father_id_l IS NOT NULL AND father_id_r IS NOT NULL " \
        "AND father_id_l <> father_id_r)"
    common = f"(mother_id_l = mother_id_r OR father_id_l = father_id_r) " \
        f"AND NOT {mother_differs} AND NOT {father_differs}"
    # The same first name in Arabic (normalised), the reference script: a Latin skeleton is
    # shared by siblings' different names (Hassan / Houssine, Imane / Yamna); and born within a
    # year (the normalised key joins brothers Hassan / Lahcen, حسن / الحسن, born years apart).
    first_alike = "first_key_ar_l = first_key_ar_r AND abs(birth_year_l - birth_year_r) <= 1"
    return cl.CustomComparison(
        output_column_name="parents",
        comparison_description="links to the mother and the father (with the first name)",
        comparison_levels=[
            cll.CustomLevel("(mother_id_l IS NULL AND father_id_l IS NULL) OR "
                            "(mother_id_r IS NULL AND father_id_r IS NULL)").configure(
                is_null_level=True),
            # Siblings share their parents but not their first name (parents do not give one
            # twice): the same parents count only together with the same first name. Trained.
            cll.CustomLevel(f"{common} AND {first_alike}",
                            "same parents, same first name, born within a year"),
            # Another first name: siblings (twins share the birth date too). No evidence either
            # way: trained, u from random pairs would call it strong evidence (siblings are
            # not random pairs), so it is fixed neutral like a shared household.
            cll.CustomLevel(common, "same parents, another first name or year (siblings)")
            .configure(**NEUTRAL),
            # Each side links a different parent (a mother here, a father there): no evidence.
            cll.CustomLevel(f"NOT {mother_differs} AND NOT {father_differs}",
                            "no parent in common, none contradicts").configure(**NEUTRAL),
            cll.CustomLevel("(mother_id_l = mother_id_r) OR (father_id_l = father_id_r)",
                            "one parent differs"),
            cll.ElseLevel().configure(label_for_charts="the parents differ"),
        ],
    )


def settings(params: LinkageParams) -> Any:
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=[
            _name_comparison("first", "first_key_ar", "first_key_latin", "first_latin"),
            _name_comparison("family", "family_key_ar", "family_key_latin", "family_latin"),
            _birth_comparison(),
            cl.ExactMatch("sex"),
            cl.ExactMatch("birth_place"),
            _parents_comparison(),
            cl.ExactMatch("phone"),
            _documents_comparison(),
            _household_comparison(),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("family_key_ar", "first_key_ar", "birth_year"),
            block_on("family_key_latin", "first_key_latin", "birth_year"),
            block_on("family_key_ar", "birth_date_text"),
            block_on("first_key_ar", "birth_date_text"),
            block_on("family_key_latin", "birth_date_text"),
            block_on("phone"),
            # A parent's link and the first name (siblings do not share it): a re-enrolment on
            # a birth certificate with the family name and the date both mistyped.
            block_on("mother_id", "first_key_ar"),
            block_on("father_id", "first_key_ar"),
        ],
        retain_matching_columns=True,  # keeps the gamma (level) columns
        retain_intermediate_calculation_columns=True,
        em_convergence=0.001,
        max_iterations=20,
    )


# ---------------------------------------------------------------------------------------------
# Backends


def duckdb_connection() -> Any:
    """An in-memory DuckDB that never downloads an extension."""
    import duckdb

    con = duckdb.connect(":memory:", config={"autoinstall_known_extensions": False,
                                             "autoload_known_extensions": False})
    return con


def _db_api(params: LinkageParams, spark: Any = None) -> Any:
    if params.backend == "spark":
        from splink import SparkAPI

        if spark is None:
            raise ValueError("the Spark backend needs a SparkSession")
        return SparkAPI(spark_session=spark)
    from splink import DuckDBAPI

    return DuckDBAPI(connection=duckdb_connection())


def spark_session(*, cores: int = 2, app_name: str = "sijill-dedup") -> Any:
    """A local SparkSession with Splink's similarity functions (the jar ships with Splink: nothing
    is downloaded). On a cluster, build the session the cluster's way and add the same jar
    (`splink.backends.spark.similarity_jar_location()`) to `spark.jars`."""
    import tempfile

    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    session = (SparkSession.builder.master(f"local[{cores}]").appName(app_name)
               .config("spark.jars", similarity_jar_location())
               .config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", str(max(2, cores * 2)))
               .config("spark.default.parallelism", str(max(2, cores * 2)))
               .getOrCreate())
    session.sparkContext.setCheckpointDir(tempfile.mkdtemp(prefix="sijill-dedup-spark-"))
    return session


def _register(db_api: Any, prepared: pl.DataFrame, params: LinkageParams, spark: Any) -> Any:
    if params.backend == "spark":
        sdf = spark.createDataFrame(prepared.to_arrow())
        return db_api.register(sdf, table_name="persons")
    con = db_api.duckdb_con
    arrow = prepared.to_arrow()
    con.register("persons_arrow", arrow)
    con.execute("CREATE TABLE persons AS SELECT * FROM persons_arrow")
    con.unregister("persons_arrow")
    return db_api.register("persons", table_name="persons_input")


def _to_polars(sdf: Any, params: LinkageParams) -> pl.DataFrame:
    if params.backend == "spark":
        return pl.from_arrow(sdf.as_spark_dataframe().toArrow())  # type: ignore[return-value]
    return pl.from_arrow(sdf.as_duckdbpyrelation().to_arrow_table())  # type: ignore[return-value]


# ---------------------------------------------------------------------------------------------
# The job


Progress = Callable[[str, float], None]


def deduplicate(frame: pl.DataFrame, params: LinkageParams | None = None, *,
                exclude_pairs: pl.DataFrame | None = None, spark: Any = None,
                progress: Progress | None = None) -> LinkageResult:
    """Train, predict and cluster. `exclude_pairs` (unique_id_l < unique_id_r) are pairs already
    decided distinct: they are dropped before clustering. `progress(stage, fraction)`."""
    from splink import Linker, block_on

    params = params or LinkageParams()
    say = progress or (lambda stage, fraction: None)
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[name] = round(now - clock, 2)
        clock = now

    say("prepare", 0.05)
    prepared = prepare(frame)
    lap("prepare")
    db_api = _db_api(params, spark)
    linker = Linker(_register(db_api, prepared, params, spark), settings(params),
                    log_level=logging.WARNING)
    lap("load")

    say("train", 0.15)
    notes: list[str] = []

    def attempt(step: str, fn: Callable[[], object]) -> None:
        """A register too small to train on keeps the default parameters for that step."""
        from splink.internals.exceptions import SplinkException

        try:
            fn()
        except (SplinkException, ZeroDivisionError) as exc:
            notes.append(f"{step}: {type(exc).__name__}")
            logger.warning("dedup training step %s skipped: %s", step, exc)

    attempt("prior", lambda: linker.training.estimate_probability_two_random_records_match(
        [block_on("first_key_ar", "family_key_ar", "birth_date_text", "birth_place")],
        recall=params.prior_recall))
    if not 0 < linker._settings_obj._probability_two_random_records_match < 1:
        linker._settings_obj._probability_two_random_records_match = DEFAULT_PRIOR
        notes.append("prior: default")
    attempt("u", lambda: linker.training.estimate_u_using_random_sampling(
        max_pairs=params.u_max_pairs, seed=params.seed))
    _complete_u(linker, params)
    say("train", 0.3)
    attempt("em_birth_date", lambda: linker.training
            .estimate_parameters_using_expectation_maximisation(
                block_on("birth_date_text"), max_pairs=params.em_max_pairs,
                estimate_without_term_frequencies=True))
    say("train", 0.4)
    attempt("em_names_phone", lambda: linker.training
            .estimate_parameters_using_expectation_maximisation(
                block_on("first_key_ar", "family_key_ar", "phone"),
                max_pairs=params.em_max_pairs, estimate_without_term_frequencies=True))
    _smooth(linker)
    lap("train")

    say("predict", 0.5)
    floor = min(params.predict_floor, params.threshold)
    predictions = linker.inference.predict(threshold_match_probability=floor,
                                           warning_mode="never")
    pairs = _to_polars(predictions, params)
    lap("predict")

    say("cluster", 0.8)
    comparisons = _comparison_levels(linker)
    pairs = _with_evidence(pairs, comparisons)
    if exclude_pairs is not None and exclude_pairs.height:
        pairs = pairs.join(exclude_pairs.select("unique_id_l", "unique_id_r"),
                           on=["unique_id_l", "unique_id_r"], how="anti")
    clusters = connected_components(mutual_best_links(
        pairs.filter(pl.col("match_probability") >= params.threshold)))
    lap("cluster")
    say("done", 1.0)
    model = _model_summary(linker, comparisons)
    model["training_notes"] = notes
    return LinkageResult(pairs=pairs, clusters=clusters, records=prepared.height,
                         seconds=seconds, model=model)


def _complete_u(linker: Any, params: LinkageParams) -> None:
    """u of the levels random sampling never saw. Splink would fall back to a default u that
    says nothing of the data; instead:

    - "one parent differs" takes the u of "the parents differ": both are a contradiction, and
      random pairs that share one parent are relatives, not a sample of non-matches;
    - any other level gets the rule-of-three bound 3 / (pairs sampled): seen in none of N
      random pairs, its frequency is below 3/N with 95 % confidence.
    """
    bound = 3.0 / params.u_max_pairs
    for comparison in linker._settings_obj.comparisons:
        levels = {lv.label_for_charts: lv for lv in comparison.comparison_levels
                  if not lv.is_null_level}
        for label, level in levels.items():
            if level._fix_u_probability or level._u_probability is not None:
                continue
            if label == "one parent differs" and "the parents differ" in levels:
                other = levels["the parents differ"]._u_probability
                level.u_probability = float(other) if isinstance(other, float) else bound
            else:
                level.u_probability = bound


def _smooth(linker: Any) -> None:
    """Raise every m probability to at least M_FLOOR, renormalised within its comparison."""
    for comparison in linker._settings_obj.comparisons:
        levels = [lv for lv in comparison.comparison_levels
                  if not lv.is_null_level and not lv._fix_m_probability]
        values = [max(float(lv.m_probability or 0.0), M_FLOOR) for lv in levels]
        total = sum(values)
        if len(levels) < 2 or total <= 0:
            continue
        for level, value in zip(levels, values, strict=True):
            level.m_probability = value / total


def _comparison_levels(linker: Any) -> dict[str, dict[int, tuple[str, float | None]]]:
    """comparison name -> gamma value -> (level label, match weight)."""
    out: dict[str, dict[int, tuple[str, float | None]]] = {}
    for comparison in linker._settings_obj.comparisons:
        levels: dict[int, tuple[str, float | None]] = {}
        for level in comparison.comparison_levels:
            weight = None
            if not level.is_null_level:
                try:
                    weight = round(float(level._match_weight), 3)
                except (TypeError, ValueError, ZeroDivisionError):
                    weight = None
                if weight is not None and not math.isfinite(weight):
                    weight = None
            levels[int(level.comparison_vector_value)] = (level.label_for_charts, weight)
        out[comparison.output_column_name] = levels
    return out


def _model_summary(linker: Any, comparisons: dict[str, dict[int, tuple[str, float | None]]]
                   ) -> dict[str, Any]:
    def probability(level: Any, which: str) -> float | None:
        try:
            value = float(getattr(level, which))
        except (TypeError, ValueError):
            return None
        return value if math.isfinite(value) else None

    return {
        "probability_two_random_records_match":
            linker._settings_obj._probability_two_random_records_match,
        "comparisons": {name: {label: weight for label, weight in levels.values()}
                        for name, levels in comparisons.items()},
        # m and u of every level, and whether it was fixed rather than estimated.
        "levels": {c.output_column_name: {
            level.label_for_charts: {
                "m": probability(level, "m_probability"), "u": probability(level, "u_probability"),
                "fixed": bool(level._fix_m_probability)}
            for level in c.comparison_levels if not level.is_null_level}
            for c in linker._settings_obj.comparisons},
    }


def _with_evidence(pairs: pl.DataFrame,
                   comparisons: dict[str, dict[int, tuple[str, float | None]]]) -> pl.DataFrame:
    """Keep ids, weight and probability, and a struct of per-comparison evidence: the level
    matched and its match weight (TF adjustments included)."""
    fields = []
    for name, levels in comparisons.items():
        gamma = f"gamma_{name}"
        labels = {g: label for g, (label, _w) in levels.items()}
        level = pl.col(gamma).replace_strict(labels, default=None, return_dtype=pl.String)
        weight = pl.col(f"mw_{name}") if f"mw_{name}" in pairs.columns else pl.lit(None)
        if f"mw_tf_adj_{name}" in pairs.columns:
            weight = weight + pl.col(f"mw_tf_adj_{name}").fill_null(0)
        fields.append(pl.struct(level.alias("level"), weight.round(3).cast(pl.Float64)
                                .alias("weight")).alias(name))
    return pairs.select(
        pl.col("unique_id_l").cast(pl.Int64), pl.col("unique_id_r").cast(pl.Int64),
        pl.col("match_weight").cast(pl.Float64), pl.col("match_probability").cast(pl.Float64),
        pl.struct(fields).alias("evidence"),
    ).with_columns(  # lower id on the left, whatever the backend did
        pl.min_horizontal("unique_id_l", "unique_id_r").alias("unique_id_l"),
        pl.max_horizontal("unique_id_l", "unique_id_r").alias("unique_id_r"),
    )


def mutual_best_links(edges: pl.DataFrame) -> pl.DataFrame:
    """The edges that are the strongest link of both their records. A second enrolment copies
    one person: when a record resembles several others (a namesake born the same year), only
    its best match is kept, so clusters do not chain through coincidences. Ties are broken by
    the higher probability, then the lower id, so each record keeps one best link."""
    if edges.height == 0:
        return edges
    ends = pl.concat([
        edges.select(pl.col("unique_id_l").alias("node"), pl.col("unique_id_r").alias("other"),
                     "match_weight"),
        edges.select(pl.col("unique_id_r").alias("node"), pl.col("unique_id_l").alias("other"),
                     "match_weight"),
    ]).sort(["node", "match_weight", "other"], descending=[False, True, False]) \
        .group_by("node", maintain_order=True).first().select("node", "other")
    best = ends.with_columns(pl.min_horizontal("node", "other").alias("unique_id_l"),
                             pl.max_horizontal("node", "other").alias("unique_id_r")) \
        .group_by("unique_id_l", "unique_id_r").len().filter(pl.col("len") == 2)
    return edges.join(best.select("unique_id_l", "unique_id_r"),
                      on=["unique_id_l", "unique_id_r"], how="semi")


def connected_components(edges: pl.DataFrame) -> pl.DataFrame:
    """cluster_id (smallest member id) and unique_id for every record in an edge."""
    if edges.height == 0:
        return pl.DataFrame(schema={"cluster_id": pl.Int64, "unique_id": pl.Int64})
    left = edges["unique_id_l"].to_list()
    right = edges["unique_id_r"].to_list()
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(x, x) != root:
            parent[x], x = root, parent[x]
        return root

    for a, b in zip(left, right, strict=True):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    nodes = set(left) | set(right)
    return pl.DataFrame({"cluster_id": [find(n) for n in nodes], "unique_id": list(nodes)},
                        schema={"cluster_id": pl.Int64, "unique_id": pl.Int64}).sort(
        "cluster_id", "unique_id")


# ---------------------------------------------------------------------------------------------
# Evaluation against a ground truth


@dataclass(frozen=True)
class Quality:
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0


def cluster_pairs(clusters: pl.DataFrame) -> pl.DataFrame:
    """Every pair of records put in one cluster (unique_id_l < unique_id_r)."""
    return clusters.join(clusters, on="cluster_id", suffix="_r").filter(
        pl.col("unique_id") < pl.col("unique_id_r")).select(
        pl.col("unique_id").alias("unique_id_l"), "unique_id_r")


def evaluate(clusters: pl.DataFrame, truth: pl.DataFrame) -> Quality:
    """Pairwise precision and recall of the clusters against true pairs (unique_id_l/_r, any
    order): a true pair is found when both records are in one cluster."""
    true = truth.select(pl.min_horizontal("unique_id_l", "unique_id_r").alias("unique_id_l"),
                        pl.max_horizontal("unique_id_l", "unique_id_r").alias("unique_id_r")
                        ).unique()
    predicted = cluster_pairs(clusters)
    correct = predicted.join(true, on=["unique_id_l", "unique_id_r"], how="inner").height
    return Quality(true_pairs=true.height, predicted_pairs=predicted.height,
                   correct_pairs=correct)
