"""Flow-matching models in this project's Gaussian theory (docs/theory/flow.md).

- :mod:`~symsched.flow.derive` — the rectified-flow interpolant in the scaled state: its noise
  level, Euler in flow time as the DDIM step, Heun in flow time against Heun in the noise level,
  and the shift maps of SD3 (linear) and Flux (exponential) as maps of the noise level.
- :mod:`~symsched.flow.shift` — the exact optimal shift of N uniform flow steps for a spectrum.
"""

from __future__ import annotations

from symsched.flow import derive, shift

__all__ = ["derive", "shift"]
