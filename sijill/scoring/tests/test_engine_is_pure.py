"""The engine is plain Python: importing it never imports Django."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def test_importing_the_engine_does_not_import_django() -> None:
    code = (
        "import sys\n"
        "import sijill.scoring.engine\n"
        "import sijill.scoring.engine.calibration\n"
        "import sijill.scoring.engine.kernel\n"
        "from sijill.scoring.engine import default_formula\n"
        "default_formula()\n"
        "assert 'django' not in sys.modules, sorted(m for m in sys.modules if 'django' in m)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=REPO
    )
    assert completed.returncode == 0, completed.stderr
