"""The :class:`Schedule` object: an N-step grid with the parameters that produced it."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

import numpy as np

from symsched._json import json_safe
from symsched._typing import FloatArray, JSONValue
from symsched._validate import as_grid
from symsched._version import __version__

__all__ = ["Schedule"]


@dataclass(frozen=True)
class Schedule:
    """An N-step grid ``sigmas = [sigma_0 > ... > sigma_N]`` with the parameters that produced it.

    Attributes
    ----------
    method
        The registered method that built it (or ``"explicit"``).
    sigmas
        The N+1 noise levels, strictly decreasing; ``sigma_0`` may be ``inf``
        (docs/conventions.md#grids).
    params
        Every parameter that produced the grid, defaults included.
    options
        The method's options dataclass that built the grid, set by the method registry
        (:meth:`symsched.schedules.Method.build_with`) so that the same method can be built at
        another N (:attr:`ending_at_zero`); ``None`` for an explicit grid. Not compared.
    """

    method: str
    sigmas: FloatArray
    params: Mapping[str, object] = field(default_factory=dict)
    options: object | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sigmas", as_grid(self.sigmas))

    @property
    def steps(self) -> int:
        """The number of steps N (one fewer than the levels)."""
        return int(self.sigmas.size - 1)

    @functools.cached_property
    def ending_at_zero(self) -> Schedule:
        r"""The N-step grid that ends at 0: N levels from ``sigma_0`` down to ``sigma_min``, then 0.

        The rule of docs/conventions.md#steps-and-the-final-0 for consumers whose last step goes to
        0: the final step to 0 is one of the N steps. A grid that already ends at 0 is itself; a
        grid ending at :math:`\sigma_N>0` becomes the same method's :math:`(N-1)`-step grid (N
        levels from :math:`\sigma_0` to :math:`\sigma_N`) followed by 0, the convention of
        k-diffusion's ``get_sigmas_karras(n=N)`` and of diffusers' ``use_karras_sigmas``; for N = 1
        it is :math:`[\sigma_0, 0]`. Computed once per schedule.

        Returns
        -------
        Schedule
            N+1 levels ending at 0; when the grid ended above 0, ``params`` gain
            ``"ending_at_zero"``, a phrase saying how the levels were formed.

        Raises
        ------
        ValueError
            If the grid ends above 0 and has no method to rebuild it (an explicit grid, ``options``
            ``None``): the message says to end it at 0.
        """
        sig = self.sigmas
        if sig[-1] == 0.0:
            return self
        n = self.steps
        if n == 1:
            levels = np.array([sig[0], 0.0])
            how = f"sigma_0 = {sig[0]:g} followed by 0"
        elif self.options is None:
            raise ValueError(
                f"the grid ends at sigma_N = {sig[-1]:g} > 0 and the consumer's last step goes to "
                f"0, which is one of the N = {n} steps; an explicit grid cannot be rebuilt with "
                f"N-1 steps, so end it at 0 (append 0 for {n + 1} steps through these levels, or "
                "replace its last level by 0), or build it with a method (symsched.build)"
            )
        else:
            from symsched.schedules._registry import get_method  # the registry imports this module

            shorter = get_method(self.method).build_with(n - 1, self.options).sigmas
            levels = np.append(shorter, 0.0)
            how = (
                f"its {n - 1}-step grid ({n} levels {shorter[0]:g} -> {shorter[-1]:g}) "
                "followed by 0"
            )
        params = {**self.params, "ending_at_zero": how}
        return Schedule(self.method, levels, params, self.options)

    def to_json(self) -> dict[str, JSONValue]:
        """The schedule object (docs/conventions.md#json-output).

        Returns
        -------
        dict
            ``method``, ``steps``, ``sigmas`` (``"inf"`` for an infinite level), ``params`` and
            ``version``, JSON-safe.
        """
        out = json_safe(
            {
                "method": self.method,
                "steps": self.steps,
                "sigmas": self.sigmas,
                "params": dict(self.params),
                "version": __version__,
            }
        )
        return cast(dict[str, JSONValue], out)
