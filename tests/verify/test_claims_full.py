"""The slow tier: every claim under the full profile (larger Monte Carlo and example budgets)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

from symsched_verify.registry import Budget, load_claims

CLAIMS = load_claims()


@pytest.mark.slow
@pytest.mark.parametrize("claim_id", sorted(CLAIMS))
def test_claim_passes_full_profile(claim_id: str) -> None:
    out = CLAIMS[claim_id].check(Budget(profile="full"))
    for fig in out.figures.values():
        plt.close(fig)
    assert out.passed, f"{claim_id}: {out.measured}"
