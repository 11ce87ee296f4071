r"""Tolerances of the transfer comparison (docs/theory/coupling.md#transfer-beyond-the-gaussian),
each with its reason."""

from __future__ import annotations

__all__ = ["TRANSFER_ALPHA", "TRANSFER_EXACT_RTOL"]

# Two-sided level of each paired test "sampler-aware grid vs another grid" on a Monte Carlo
# metric (CW features per sample, network FD / SW2 per batch: Student-t with n - 1 dof, so the
# 5 network batches get t = 2.78, not 2). At 5% a tie is "no difference the run can resolve"; the
# counts are reported, not thresholded, so the level only moves pairs between win/lose and tie
# (about 1 in 20 of the truly equal pairs is called a win or a loss by chance).
TRANSFER_ALPHA = 0.05

# Tie band of an exact metric (the GM features are computed without Monte Carlo: the spread from
# the deterministic growth factor, the mode fraction by bisection to ~1e-14 in z, so every
# difference is real to ~1e-12). The band is a reporting convention, not a statistical tolerance:
# a difference below 1% of the larger value (e.g. a mode-fraction error 0.0208 vs 0.0210) is no
# reason to prefer one grid, so it is counted as a tie rather than as a win or a loss.
TRANSFER_EXACT_RTOL = 0.01
