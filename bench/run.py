"""`make bench`: run every benchmark script and print its figures with their baselines."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = sorted(p for p in HERE.glob("bench_*.py"))


def main() -> int:
    failed = 0
    for script in SCRIPTS:
        print(f"== {script.stem}", flush=True)
        result = subprocess.run([sys.executable, str(script), *sys.argv[1:]], cwd=HERE.parent,
                                check=False)
        if result.returncode:
            print(f"{script.stem}: FAILED (exit {result.returncode})", flush=True)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
