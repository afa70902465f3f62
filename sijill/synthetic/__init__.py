"""Synthetic national population from the 2024 census (see DISTRIBUTIONS.md).

`generate` yields Polars frames and `generate_to_parquet` writes them, with no Django; the loader
into the register is `sijill.synthetic.load.population_load` (Django, imported on its own; see
LOADING.md), run by `manage.py generate_population`.
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
