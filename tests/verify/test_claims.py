"""Every registered claim, run under the quick profile, is a test: it must pass."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

from symsched_verify.registry import Budget, load_claims

CLAIMS = load_claims()


def test_registry_is_populated() -> None:
    # catches a broken discovery of verify/claims/*.py
    assert len(CLAIMS) >= 10


@pytest.mark.parametrize("claim_id", sorted(CLAIMS))
def test_claim_passes(claim_id: str) -> None:
    c = CLAIMS[claim_id]
    out = c.check(Budget(profile="quick"))
    for fig in out.figures.values():
        plt.close(fig)
    assert out.passed, f"{claim_id}: {out.measured} {out.details}"
