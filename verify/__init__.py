"""verify: independent checks of every claim symsched derives.

Depends on :mod:`symsched`, never the reverse. Holds the oracles (particle samplers, hand-typed
paper formulas, high-precision direct sums), the hypothesis strategies, the tolerances and the
claim registry that ``symsched verify`` runs.
"""

from symsched_verify._version import __version__
from symsched_verify.registry import CLAIMS, Budget, Claim, Outcome, claim, load_claims

__all__ = ["CLAIMS", "Budget", "Claim", "Outcome", "__version__", "claim", "load_claims"]
