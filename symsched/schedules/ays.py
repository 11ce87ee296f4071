r"""Align Your Steps: the published 10-step noise-level tables and their log-linear interpolation.

Sabour, Fidler and Kreis optimised 10-step schedules for Stable Diffusion 1.5, SDXL and Stable Video
Diffusion [sabour2024, Table 3]. Only the 10-step tables are public; every implementation reaches
other step counts by interpolating them *log-linearly against a uniform index*, as ComfyUI's
``loglinear_interp`` does [ComfyUI ``comfy_extras/nodes_align_your_steps.py``]:
``xs = linspace(0, 1, 11)``, ``ys = log(levels[::-1])``,
``exp(interp(linspace(0, 1, N + 1), xs, ys))[::-1]``.

The constants below are ComfyUI's higher-precision values [comfyui]
(docs/conventions.md#align-your-steps-tables); diffusers ships the paper's 3-decimal values
(``diffusers.schedulers.AysSchedules``) with the last level replaced by 0.
They agree to the 3-decimal rounding except SDXL's tenth level: ComfyUI 0.1114188177, paper and
diffusers 0.113 (recorded, and checked, in ``symsched_verify.claims.reference``).

References
----------
.. [sabour2024] A. Sabour, S. Fidler, K. Kreis, "Align Your Steps: Optimizing Sampling Schedules in
   Diffusion Models", ICML 2024, arXiv:2404.14507, Table 3.
"""

from __future__ import annotations

import math
from typing import Literal, TypeAlias, get_args

import numpy as np

from symsched._typing import FloatArray
from symsched._validate import check_choice, check_steps

__all__ = ["AYS_MODELS", "AYS_SIGMAS", "AYSModel", "ays_sigmas", "loglinear_interp"]

AYSModel: TypeAlias = Literal["sd15", "sdxl", "svd"]
"""The models Align Your Steps publishes tables for."""
AYS_MODELS: tuple[str, ...] = get_args(AYSModel)

# 11 levels sigma(t_10) ... sigma(t_0), descending [sabour2024, Table 3]; ComfyUI precision.
AYS_SIGMAS: dict[str, tuple[float, ...]] = {
    "sd15": (
        14.6146412293,
        6.4745760956,
        3.8636745985,
        2.6946151520,
        1.8841921177,
        1.3943805092,
        0.9642583904,
        0.6523686016,
        0.3977456272,
        0.1515232662,
        0.0291671582,
    ),
    "sdxl": (
        14.6146412293,
        6.3184485287,
        3.7681790315,
        2.1811480769,
        1.3405244945,
        0.8620721141,
        0.5550693289,
        0.3798540708,
        0.2332364134,
        0.1114188177,
        0.0291671582,
    ),
    "svd": (700.00, 54.5, 15.886, 7.977, 4.248, 1.789, 0.981, 0.403, 0.173, 0.034, 0.002),
}


def loglinear_interp(levels: FloatArray | tuple[float, ...], num_levels: int) -> FloatArray:
    r"""Resample descending ``levels`` to ``num_levels`` points, piecewise linear in log sigma.

    Linear against a uniform index, as ComfyUI's ``loglinear_interp`` [comfyui].

    Parameters
    ----------
    levels
        Strictly decreasing positive levels (a published table).
    num_levels
        The number of levels wanted (at least 2).

    Returns
    -------
    FloatArray
        ``num_levels`` levels, descending, from the first to the last of ``levels``.

    Raises
    ------
    ValueError
        If ``levels`` is not strictly decreasing and positive, or ``num_levels < 2``.
    """
    lv = np.asarray(levels, dtype=np.float64)
    if lv.ndim != 1 or lv.size < 2 or not (lv > 0).all() or not (np.diff(lv) < 0).all():
        raise ValueError("levels must be a strictly decreasing list of positive noise levels")
    m = check_steps(num_levels, "num_levels", minimum=2)
    xs = np.linspace(0, 1, lv.size)
    # math.log / math.exp element by element: numpy's vectorised exp and log may differ by one
    # ulp with the array's memory alignment, and a published table must come out bit-identical
    # on every run.
    ys = np.array([math.log(v) for v in lv[::-1]])
    out = [math.exp(y) for y in np.interp(np.linspace(0, 1, m), xs, ys)]
    return np.array(out[::-1], dtype=np.float64)


def ays_sigmas(model: str, steps: int, *, zero_terminal: bool = False) -> FloatArray:
    r"""The AYS grid of ``model`` with ``steps`` steps (N+1 levels, descending).

    ``steps = 10`` returns the published table; other N interpolate it (:func:`loglinear_interp`).
    ``zero_terminal=True`` replaces the last level by 0, as ComfyUI and diffusers do (then the last
    step is sigma_{N-1} -> 0 and N steps make N model calls)
    (docs/conventions.md#k-diffusion-and-comfyui).

    Parameters
    ----------
    model
        One of :data:`AYS_MODELS`.
    steps
        The number of steps N.
    zero_terminal
        Replace the last level by 0.

    Returns
    -------
    FloatArray
        The N+1 levels of [sabour2024, Table 3], interpolated when N is not 10.

    Raises
    ------
    ValueError
        If ``model`` or ``steps`` is invalid.
    """
    check_choice(model, "model", AYS_MODELS)
    n = check_steps(steps, "steps")
    table = np.array(AYS_SIGMAS[model], dtype=np.float64)
    out = table.copy() if n + 1 == table.size else loglinear_interp(table, n + 1)
    out[0], out[-1] = table[0], table[-1]  # endpoints exact (exp(log(x)) may move them by an ulp)
    if zero_terminal:
        out[-1] = 0.0
    return out
