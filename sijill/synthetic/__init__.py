"""Synthetic national population from the 2024 census (see DISTRIBUTIONS.md).

No Django here: `generate` yields Polars frames, `generate_to_parquet` writes them; the loader
into the database lives with the models.
"""

from sijill.synthetic.generate import Options, collect, generate, generate_to_parquet
from sijill.synthetic.schema import SCHEMAS, TABLES
from sijill.synthetic.tables import CONSUMPTION_MODEL, Rates

__all__ = [
    "CONSUMPTION_MODEL",
    "SCHEMAS",
    "TABLES",
    "Options",
    "Rates",
    "collect",
    "generate",
    "generate_to_parquet",
]
