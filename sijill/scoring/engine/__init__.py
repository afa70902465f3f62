"""Pure scoring engine (no Django): formulas as data, single and batch scores, explanations,
calibration. The Django layer stores formulas and scores and calls these functions."""

from sijill.scoring.engine.batch import BatchResult, score_batch
from sijill.scoring.engine.derivations import DERIVATIONS, MEMBER_FEATURES
from sijill.scoring.engine.explain import (
    Direction,
    Explanation,
    ExplanationItem,
    explain,
    fold_squares,
)
from sijill.scoring.engine.formula import (
    Choice,
    Formula,
    FormulaStatus,
    Labels,
    MilieuModel,
    Provenance,
    Region,
    Threshold,
    Variable,
    default_formula,
    dump_formula,
    load_formula,
)
from sijill.scoring.engine.inputs import (
    ColumnOverride,
    HouseholdBatch,
    HouseholdInput,
    Identity,
    MemberInput,
    Verified,
    age_in_completed_years,
)
from sijill.scoring.engine.single import ScoreResult, VariableScore, score_household

__all__ = [
    "DERIVATIONS",
    "MEMBER_FEATURES",
    "BatchResult",
    "Choice",
    "ColumnOverride",
    "Direction",
    "Explanation",
    "ExplanationItem",
    "Formula",
    "FormulaStatus",
    "HouseholdBatch",
    "HouseholdInput",
    "Identity",
    "Labels",
    "MemberInput",
    "MilieuModel",
    "Provenance",
    "Region",
    "ScoreResult",
    "Threshold",
    "Variable",
    "VariableScore",
    "Verified",
    "age_in_completed_years",
    "default_formula",
    "dump_formula",
    "explain",
    "fold_squares",
    "load_formula",
    "score_batch",
    "score_household",
]
