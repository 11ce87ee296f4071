r"""The time grid of the high-dimensional study: :class:`TauGrid`.

The grids of docs/theory/highdim.md#time-dilation-and-constant-denoising.

Shared by :mod:`symsched.highdim.schedules` (constant and dilated grids, the name registry) and
:mod:`symsched.highdim.gm_stein` (the Stein-cost grid of the Gaussian mixture), so that neither
of them imports the other to build a grid. Re-exported by :mod:`symsched.highdim.schedules` and
:mod:`symsched.highdim`.

References: [aranguri2025, §2.1, §5.1] (Aranguri, Biroli, Mézard, Vanden-Eijnden,
arXiv:2501.00988); page docs/theory/highdim.md#time-dilation-and-constant-denoising.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from symsched._typing import FloatArray, JSONDict
from symsched._version import __version__

__all__ = ["TauGrid"]


@dataclass(frozen=True)
class TauGrid:
    r"""An increasing time grid ``taus`` (``tau_0 = 0``, ``tau_N = 1``) with ``alphas = 1 - taus``.

    The complements ``alphas`` are stored as computed from the schedule's own formula, not as
    ``1 - tau``, so that they keep full relative precision near ``tau = 1``. With
    ``alpha = 1 - tau`` and noise scale ``c`` the grid is the noise-level grid
    :math:`\rho_k = c\,\alpha_k/\tau_k` of :meth:`sigmas` [aranguri2025, §2.1]
    (docs/conventions.md#noise-level).

    Parameters
    ----------
    name
        Schedule name (the ``method`` of :meth:`to_json`).
    taus
        Interpolant times, strictly increasing from exactly 0 to exactly 1 (at least 2 values).
    alphas
        ``1 - taus``, strictly decreasing from exactly 1 to exactly 0.
    params
        The schedule's parameters (JSON values), copied into :meth:`to_json`.

    Raises
    ------
    ValueError
        If the arrays are not 1-D of one length >= 2, do not start at ``tau = 0`` / end at
        ``tau = 1``, or are not strictly monotone.
    """

    name: str
    taus: FloatArray
    alphas: FloatArray
    params: JSONDict = field(default_factory=dict)

    def __post_init__(self) -> None:
        t, a = np.asarray(self.taus, dtype=np.float64), np.asarray(self.alphas, dtype=np.float64)
        if t.ndim != 1 or t.shape != a.shape or t.size < 2:
            raise ValueError("taus and alphas must be 1-D arrays of the same length >= 2")
        if t[0] != 0.0 or t[-1] != 1.0 or a[0] != 1.0 or a[-1] != 0.0:
            raise ValueError(
                "a tau grid must start at tau = 0 (alpha = 1) and end at tau = 1 (alpha = 0)"
            )
        if not (np.all(np.diff(t) > 0) and np.all(np.diff(a) < 0)):
            raise ValueError("taus must be strictly increasing (alphas strictly decreasing)")
        object.__setattr__(self, "taus", t)
        object.__setattr__(self, "alphas", a)

    @property
    def steps(self) -> int:
        """Number of steps ``N`` (``len(taus) - 1``)."""
        return int(self.taus.size - 1)

    @property
    def dtaus(self) -> FloatArray:
        """Step sizes ``tau_{k+1} - tau_k``, computed from ``alphas`` where that is more accurate.

        Returns
        -------
        FloatArray
            ``N`` step sizes: differences of ``alphas`` where ``tau_{k+1} > 1/2``, of ``taus``
            elsewhere.
        """
        dt = np.diff(self.taus)
        da = -np.diff(self.alphas)
        out: FloatArray = np.where(self.taus[1:] > 0.5, da, dt)
        return out

    def sigmas(self, c_value: float) -> FloatArray:
        r"""Noise levels :math:`\rho_k = c\,\alpha_k/\tau_k` (docs/conventions.md#noise-level).

        Parameters
        ----------
        c_value
            The noise scale ``c``: 1 (VP) or ``sqrt(d)`` (VE) [aranguri2025, §2.1].

        Returns
        -------
        FloatArray
            ``N + 1`` descending levels, ``inf`` first (``tau_0 = 0``) and ``0`` last.
        """
        with np.errstate(divide="ignore"):
            out: FloatArray = np.where(
                self.taus > 0,
                c_value * self.alphas / np.where(self.taus > 0, self.taus, 1.0),
                math.inf,
            )
        return out

    def to_json(self, c_value: float) -> JSONDict:
        """The schedule object (docs/conventions.md#json-output), in the noise-level scale.

        Parameters
        ----------
        c_value
            The noise scale ``c`` of :meth:`sigmas`.

        Returns
        -------
        JSONDict
            ``method``, ``steps``, ``sigmas``, ``taus``, ``params`` and ``version``.
        """
        return {
            "method": self.name,
            "steps": self.steps,
            "sigmas": self.sigmas(c_value).tolist(),
            "taus": self.taus.tolist(),
            "params": dict(self.params),
            "version": __version__,
        }
