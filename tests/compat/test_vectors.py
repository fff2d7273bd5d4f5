"""The committed interface vectors (fixtures/vectors/loadbalancer-v1.json, read by the Rust
tests) are exactly what the pinned `loadbalancer-interface` library makes today."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_committed_vectors_are_what_the_library_makes():
    run = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "make-vectors"), "--check"],
        capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stderr + run.stdout


def test_vectors_cover_every_judgement():
    import json

    v = json.loads((REPO / "fixtures" / "vectors" / "loadbalancer-v1.json").read_text(encoding="utf-8"))
    assert len(v["requests"]) >= 13
    assert {c["accepted"] for c in v["invalid_requests"]} == {True, False}
    assert {c["valid"] for c in v["responses"]} == {True, False}
