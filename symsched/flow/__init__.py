"""Flow-matching models in this project's Gaussian theory (docs/theory/flow.md).

- :mod:`~symsched.flow.derive` — the rectified-flow interpolant in the scaled state: its noise
  level, Euler in flow time as the DDIM step, Heun in flow time (the ``flow-heun`` sampler's step)
  against Heun in the noise level, and the shift maps of SD3 (linear) and Flux (exponential) as
  maps of the noise level.
- :mod:`~symsched.flow.shift` — the certified optimal shift of N uniform flow steps for a
  spectrum, a sampler and a criterion; sweeps over N, the N -> infinity limit, the freed exponent
  and the gap to the unrestricted optimum.
- :mod:`~symsched.flow.rules` — the shift rules of SD3, Flux and Flux.2 as the tools define them
  (docs/theory/flow_resolution.md#the-rules).
- :mod:`~symsched.flow.resolution` — the optimal shift against resolution and step count beside
  those rules, as a table and a plot.
"""

from __future__ import annotations

from symsched.flow import derive, resolution, rules, shift

__all__ = ["derive", "resolution", "rules", "shift"]
