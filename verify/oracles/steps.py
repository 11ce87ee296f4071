r"""The real consumer of each export format, and k-diffusion's own schedule lists: the oracle of
docs/conventions.md#steps-and-the-final-0 (an N-step schedule is N consumer steps).

Built on the drivers of :mod:`symsched_verify.oracles.consumers` (the real diffusers schedulers
and k-diffusion samplers on the exact Gaussian denoiser), independently of :mod:`symsched.export`:
a consumer's steps are counted from its own loop, never from the export's statement.
"""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from symsched_verify.oracles.consumers import (
    ConsumerRun,
    import_kdiffusion,
    run_dpm_timesteps,
    run_euler_sigmas,
    run_flow_args,
    run_flow_euler,
    run_kdiffusion,
)

__all__ = ["kdiffusion_sigmas", "run_consumer"]


def kdiffusion_sigmas(function: str, *args: float) -> NDArray[np.float64]:
    """A k-diffusion schedule function (``get_sigmas_karras``, ``get_sigmas_exponential`` ...)
    evaluated with torch's default dtype set to float64 (its ``torch.linspace`` is otherwise
    float32), so that it can be compared with a float64 grid to rounding.

    Raises
    ------
    KDiffusionMissing
        k-diffusion cannot be imported.
    """
    import torch  # a test-time dependency, as in symsched_verify.oracles.consumers

    sampling = import_kdiffusion()
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        out = getattr(sampling, function)(*args)
    finally:
        torch.set_default_dtype(old)
    return np.asarray(out.numpy(), dtype=np.float64)


def run_consumer(
    fmt: str, text: str, lam: ArrayLike, n: int, seed: int, *, shift: float = 1.0
) -> ConsumerRun:
    r"""Run the text of a ``symsched`` export through the real consumer of its format.

    ``k-diffusion`` / ``comfyui``: ``k_diffusion.sampling.sample_euler`` on the list;
    ``diffusers-euler``: :func:`run_euler_sigmas`; ``diffusers-timesteps``:
    :func:`run_dpm_timesteps` (``scaled_linear`` table, DPM-Solver++ order 1); ``flow-matching``:
    :func:`run_flow_euler` with ``shift``; ``diffusers-flow``: :func:`run_flow_args`, the
    scheduler built and called exactly as the export says; ``json`` / ``csv``: the grid they
    hold, run as symsched's samplers run it, through ``sample_euler``. Every one of these loops
    calls its model once per step, so ``queried.size`` is the number of steps the consumer takes.

    Parameters
    ----------
    fmt
        The export format.
    text
        The export's text, exactly as ``symsched schedule ... --format FMT`` prints it.
    lam
        Eigenvalues of the diagonal Gaussian source.
    n, seed
        Particles and seed.
    shift
        ``flow-matching`` only: the shift configured on the scheduler.

    Returns
    -------
    ConsumerRun
        As the driver of the format returns it.

    Raises
    ------
    ValueError
        An unknown format.
    KDiffusionMissing
        k-diffusion is needed and cannot be imported.
    """
    cov = np.diag(np.asarray(lam, dtype=np.float64))
    if fmt in ("k-diffusion", "comfyui"):
        return run_kdiffusion("euler", json.loads(text), cov, n, seed)
    if fmt == "diffusers-euler":
        return run_euler_sigmas(json.loads(text), lam, n, seed)
    if fmt == "diffusers-timesteps":
        return run_dpm_timesteps(json.loads(text), lam, n, seed)
    if fmt == "flow-matching":
        return run_flow_euler(json.loads(text), shift, lam, n, seed)
    if fmt == "diffusers-flow":
        return run_flow_args(json.loads(text), lam, n, seed)
    if fmt == "json":
        grid = [math.inf if v == "inf" else float(v) for v in json.loads(text)["sigmas"]]
    elif fmt == "csv":
        grid = [float(row["sigma"]) for row in csv.DictReader(io.StringIO(text))]
    else:
        raise ValueError(f"no consumer for format {fmt!r}")
    return run_kdiffusion("euler", grid, cov, n, seed)
