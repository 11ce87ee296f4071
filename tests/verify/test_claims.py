"""Every registered claim, run under the quick profile, is a test: it must pass, and its figures
must be trustworthy (:mod:`symsched_verify.figures`)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
from claim_prose import ascii_math, lab_notes

from symsched_verify.figures import outcome_problems
from symsched_verify.registry import Budget, load_claims

CLAIMS = load_claims()


def test_registry_is_populated() -> None:
    # catches a broken discovery of verify/claims/*.py
    assert len(CLAIMS) >= 10


@pytest.mark.integration  # the main job's content (make run), 0.1-30 s a claim
@pytest.mark.parametrize("claim_id", sorted(CLAIMS))
def test_claim_passes(claim_id: str) -> None:
    # one test per claim runs it once (two tests could land on different xdist workers and run it
    # twice): it must pass, its measured value must read as a sentence, and its figures must be
    # trustworthy: titles, axis labels, true legends, no overlapping tick labels, a caption each
    out = CLAIMS[claim_id].check(Budget(profile="quick"))
    try:
        problems = outcome_problems(out)
    finally:
        for fig in out.figures.values():
            plt.close(fig)
    assert out.passed, f"{claim_id}: {out.measured} {out.details}"
    prose = ascii_math(out.measured) + lab_notes(out.measured)
    assert not prose, f"{claim_id}: the measured value reads as code ({prose}): {out.measured}"
    assert out.measured.rstrip().endswith("."), f"{claim_id}: not a sentence: {out.measured}"
    assert not problems, f"{claim_id} figures:\n" + "\n".join(problems)
