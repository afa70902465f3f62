"""Each derivation's code is pinned: a formula version names derivations, so changing one's code
would change what every version computes, old scores' recomputations included."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sijill.scoring.engine import default_formula
from sijill.scoring.engine.digests import derivation_digests

PINNED = Path(__file__).parent / "data" / "derivation_digests.json"


def test_no_derivation_changed_without_a_new_name():
    pinned = json.loads(PINNED.read_text())
    now = derivation_digests()
    changed = sorted(n for n in pinned.keys() & now.keys() if pinned[n] != now[n])
    assert not changed, (
        f"the code of {changed} changed: every formula version naming them would now compute "
        "other numbers. Register the new code under a new derivation name (a new formula "
        "version then uses it), or, if the change provably alters no value, pin it again in "
        f"{PINNED.name}.")
    removed = sorted(pinned.keys() - now.keys())
    assert not removed, f"derivations {removed} are gone: formula versions still name them"
    added = sorted(now.keys() - pinned.keys())
    assert not added, f"pin the new derivations {added} in {PINNED.name}"


def test_every_variable_of_the_shipped_formula_is_pinned():
    pinned = json.loads(PINNED.read_text())
    formula = default_formula()
    named = {v.derivation for m in formula.milieux.values() for v in m.variables}
    assert named <= pinned.keys()


def test_the_fingerprint_is_the_same_in_another_process():
    code = ("import json, sys; sys.path.insert(0, '.'); "
            "from sijill.scoring.engine.digests import derivation_digests; "
            "print(json.dumps(derivation_digests()))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[3]).stdout
    assert json.loads(out) == derivation_digests()


def test_a_changed_body_changes_the_fingerprint_and_a_reworded_docstring_does_not(monkeypatch):
    import dataclasses

    from sijill.scoring.engine import derivations
    from sijill.scoring.engine.digests import derivation_digest

    def size(h):
        """Members of the household."""
        return h.size

    def size_reworded(h):
        """How many people live in the household."""
        # a comment
        return h.size

    def size_changed(h):
        """Members of the household."""
        return h.size + 1

    original = derivations.DERIVATIONS["household_size"]

    def digest_with(fn):
        monkeypatch.setitem(derivations.DERIVATIONS, "household_size",
                            dataclasses.replace(original, fn=fn))
        return derivation_digest("household_size")

    assert digest_with(size) == digest_with(size_reworded)
    assert digest_with(size) != digest_with(size_changed)
