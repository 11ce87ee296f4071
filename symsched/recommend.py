r"""Which schedule for this model, sampler and step budget: ``symsched recommend``.

For a model family of the reference set (:data:`symsched.reference.MODELS`), a sampler of
:data:`symsched.samplers.SAMPLERS` and N steps, every applicable method builds its N-step grid on
the family's noise range; each is scored by the exact criteria of that sampler on the family's
Gaussian proxy (or the user's spectrum): both KL directions and the coupling error
(:func:`symsched.gaussian.coupling.criteria`). The sampler-aware optimum
(:func:`symsched.gaussian.sampler_optimum.sampler_optimal`) is one of the candidates; the
recommendation is the candidate of least :func:`criterion_of` the sampler — the coupling error for
a deterministic sampler, KL(target‖output) for a stochastic one, whose injected noise is no error
in law (docs/theory/coupling.md#how-the-coupling-error-and-the-kl-differ). So the recommendation is
never worse on that criterion than any alternative it lists.

The built-in models at :data:`RECOMMEND_STEPS` are precomputed (``symsched/data/recommended.json``,
written by ``python -m symsched.recommend``; the claim ``reference.recommend-table`` recomputes
it), so they answer in well under a second; any other N or spectrum is computed on the spot.
"""

from __future__ import annotations

import functools
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from symsched._typing import FloatArray, JSONValue
from symsched.gaussian.compress import compression_params
from symsched.gaussian.coupling import Criteria, criteria
from symsched.gaussian.sampler_optimum import sampler_optimal
from symsched.samplers import get_sampler, sampler_names
from symsched.schedules import Schedule

__all__ = [
    "INPUT_DIMENSIONS",
    "RECOMMEND_STEPS",
    "Candidate",
    "Recommendation",
    "criterion_of",
    "recommend",
    "write_table",
]

RECOMMEND_STEPS: tuple[int, ...] = (5, 10, 20)
"""The step counts precomputed for every built-in (model, sampler)."""

INPUT_DIMENSIONS: dict[str, tuple[int, str]] = {
    "edm": (3 * 32 * 32, "3 x 32 x 32 pixels (CIFAR-10)"),
    "sd15": (4 * 64 * 64, "4 x 64 x 64 latents (512 px)"),
    "sdxl": (4 * 128 * 128, "4 x 128 x 128 latents (1024 px)"),
    "ddpm": (3 * 32 * 32, "3 x 32 x 32 pixels (CIFAR-10)"),
    "flow": (16 * 128 * 128, "16 x 128 x 128 latents (SD3 / Flux at 1024 px)"),
}
"""The dimension of each family's model input: a user spectrum (``--spectrum-file``) must have
this many eigenvalues (the built-in proxies are pixel-space stand-ins of their own size)."""

SAMPLER_OPTIMAL = "sampler-optimal"
"""The label of the sampler-aware optimum among the candidates."""


def criterion_of(sampler: str) -> str:
    """What the recommendation minimises for ``sampler``: ``coupling`` (deterministic samplers) or
    ``kl_source_output`` (stochastic ones)."""
    return "kl_source_output" if get_sampler(sampler).stochastic else "coupling"


@dataclass(frozen=True)
class Candidate:
    """One scored grid: its method label, levels, criteria under the sampler and parameters."""

    method: str
    sigmas: FloatArray
    criteria: Criteria
    params: dict[str, JSONValue] = field(default_factory=dict)

    def to_json(self) -> dict[str, JSONValue]:
        """``{"method", "sigmas", "criteria", "params"}``."""
        return {
            "method": self.method,
            "sigmas": [float(v) for v in self.sigmas],
            "criteria": dict(self.criteria.as_dict()),
            "params": self.params,
        }


@dataclass(frozen=True)
class Recommendation:
    """The answer of :func:`recommend`.

    Attributes
    ----------
    model, sampler, steps
        The question.
    criterion
        What the recommendation minimises (:func:`criterion_of`).
    recommended
        The candidate of least ``criterion``.
    alternatives
        Every candidate, ordered by ``criterion`` (the recommended one first).
    skipped
        Methods that do not apply, with the reason.
    proxy, proxy_dimension
        The spectrum the criteria are computed on, and its size.
    source
        ``"precomputed"`` (the shipped table) or ``"computed"``.
    """

    model: str
    sampler: str
    steps: int
    criterion: str
    recommended: Candidate
    alternatives: tuple[Candidate, ...]
    skipped: dict[str, str]
    proxy: str
    proxy_dimension: int
    source: str


def _family(model: str) -> Any:
    from symsched.reference import MODELS

    for m in MODELS:
        if m.name == model:
            return m
    raise ValueError(f"model must be one of {', '.join(x.name for x in MODELS)}; got {model!r}")


def _check_sampler(m: Any, sampler: str) -> None:
    smp = get_sampler(sampler)
    if smp.oracle_only:
        raise ValueError(f"sampler {sampler} is the exact flow: there is no grid to choose")
    if math.isinf(m.sigma_max) and not smp.pure_noise_start:
        raise ValueError(
            f"sampler {sampler} needs a finite sigma_0 and model {m.name} starts from pure noise "
            f"(sigma = inf); choose one of "
            f"{', '.join(sampler_names(where=lambda s: s.pure_noise_start))}"
        )


def _candidates(
    m: Any, lam: FloatArray, steps: int, sampler: str, exact_spectrum: bool = False
) -> tuple[list[Candidate], dict[str, str]]:
    """Every applicable method's grid as the family's consumers run it, scored.

    The consumers (k-diffusion, ComfyUI, diffusers) end every list at 0, and that step is one of
    the N (docs/conventions.md#steps-and-the-final-0): with sigma_min > 0 a candidate is the
    method's (N-1)-step grid on [sigma_min, sigma_max] followed by 0, and the sampler-aware optimum
    is optimised through that last step (``final_zero``).
    """
    from symsched.reference import _methods

    tail = m.sigma_min > 0
    out: list[Candidate] = []
    skipped: dict[str, str] = {}
    if tail and steps == 1:
        one = Schedule("one-step", np.array([m.sigma_max, 0.0]), {})
        return [_score("one-step", one, lam, sampler)], {}
    n_methods = steps - 1 if tail else steps
    for label, sch in _methods(
        m, lam, n_methods, score_models=False, exact_spectrum=exact_spectrum
    ):
        if isinstance(sch, str):
            skipped[label] = sch
            continue
        if tail:
            sch = Schedule(sch.method, np.append(sch.sigmas, 0.0), dict(sch.params))
        out.append(_score(label if label != "kl-optimal" else "kl-optimal-ddim", sch, lam, sampler))
    stochastic = get_sampler(sampler).stochastic
    opt = sampler_optimal(
        lam,
        steps,
        m.sigma_min,
        m.sigma_max,
        sampler=sampler,
        objective="kl" if stochastic else "coupling",
        final_zero=tail,
        exact_spectrum=exact_spectrum,
    )
    params: dict[str, object] = {
        "sampler": sampler,
        "objective": opt.objective,
        "objective_value": opt.objective_value,
        "sigma_min": m.sigma_min,
        "sigma_max": m.sigma_max,
        "final_zero": tail,
        "max_step_ratio": opt.max_step_ratio,
        **compression_params(opt),
    }
    out.append(_score(SAMPLER_OPTIMAL, Schedule("kl-optimal", opt.sigmas, params), lam, sampler))
    return out, skipped


def _score(label: str, sch: Schedule, lam: FloatArray, sampler: str) -> Candidate:
    from symsched._json import json_safe

    crit = criteria(lam, sch.sigmas, sampler=sampler)
    params: dict[str, JSONValue] = json_safe(dict(sch.params))  # type: ignore[assignment]
    return Candidate(label, sch.sigmas, crit, params)


def _order(cands: list[Candidate], criterion: str) -> tuple[Candidate, ...]:
    return tuple(sorted(cands, key=lambda c: (c.criteria.value(criterion), c.method)))


def compute(
    model: str,
    sampler: str,
    steps: int,
    eigenvalues: FloatArray | None = None,
    exact_spectrum: bool = False,
) -> Recommendation:
    """:func:`recommend` computed on the spot (no table), on ``eigenvalues`` or the proxy
    (``exact_spectrum``: the optimisers search on the full spectrum, not the compressed one)."""
    from symsched.reference import proxy_spectrum

    m = _family(model)
    _check_sampler(m, sampler)
    lam = proxy_spectrum(m) if eigenvalues is None else eigenvalues
    crit = criterion_of(sampler)
    cands, skipped = _candidates(m, lam, steps, sampler, exact_spectrum)
    ordered = _order(cands, crit)
    proxy = m.proxy if eigenvalues is None else f"user spectrum ({lam.size} eigenvalues)"
    return Recommendation(
        model, sampler, steps, crit, ordered[0], ordered, skipped, proxy, int(lam.size), "computed"
    )


_TABLE = "recommended.json"


@functools.cache
def _table() -> dict[str, Any]:
    path = Path(__file__).resolve().parent / "data" / _TABLE
    if not path.is_file():
        return {}
    text = path.read_text()
    out: dict[str, Any] = json.loads(text)
    return out


def _from_json(doc: dict[str, Any]) -> Candidate:
    c = doc["criteria"]
    return Candidate(
        doc["method"],
        np.asarray(doc["sigmas"], dtype=np.float64),
        Criteria(c["kl_source_output"], c["kl_output_source"], c["coupling"]),
        doc.get("params", {}),
    )


def recommend(
    model: str,
    sampler: str,
    steps: int,
    *,
    eigenvalues: FloatArray | None = None,
    exact_spectrum: bool = False,
) -> Recommendation:
    """The best grid for ``model``, ``sampler`` and ``steps``, with every alternative scored.

    Parameters
    ----------
    model
        A family of :data:`symsched.reference.MODELS` (``edm``, ``sd15``, ``sdxl``, ``ddpm``,
        ``flow``).
    sampler
        A sampler of :data:`symsched.samplers.SAMPLERS` (not the exact flow).
    steps
        N, the sampler's steps (N + 1 levels).
    eigenvalues
        A spectrum to score on instead of the family's proxy; it must have
        :data:`INPUT_DIMENSIONS` eigenvalues.
    exact_spectrum
        Compute on the spot with the optimisers searching the full spectrum, not the compressed
        one (docs/theory/gaussian.md#compressed-spectra); the table is not read.

    Returns
    -------
    Recommendation

    Raises
    ------
    ValueError
        An unknown model or sampler, a sampler that cannot run the family's range (Heun from pure
        noise), or a spectrum of the wrong dimension.
    """
    m = _family(model)
    _check_sampler(m, sampler)
    if eigenvalues is not None:
        want, what = INPUT_DIMENSIONS[model]
        if eigenvalues.size != want:
            raise ValueError(
                f"the spectrum has {eigenvalues.size} eigenvalues but {model}'s input has {want} "
                f"({what}); give the spectrum of its inputs (symsched spectrum --npy inputs.npy)"
            )
        return compute(model, sampler, steps, eigenvalues, exact_spectrum)
    if exact_spectrum:
        return compute(model, sampler, steps, exact_spectrum=True)
    entry = _table().get(model, {}).get(sampler, {}).get(str(steps))
    if entry is None:
        return compute(model, sampler, steps)
    alts = tuple(_from_json(c) for c in entry["alternatives"])
    return Recommendation(
        model,
        sampler,
        steps,
        entry["criterion"],
        alts[0],
        alts,
        dict(entry["skipped"]),
        entry["proxy"],
        int(entry["proxy_dimension"]),
        "precomputed",
    )


def entry_json(rec: Recommendation) -> dict[str, JSONValue]:
    """The table entry of one recommendation."""
    return {
        "criterion": rec.criterion,
        "alternatives": [c.to_json() for c in rec.alternatives],
        "skipped": dict(rec.skipped),
        "proxy": rec.proxy,
        "proxy_dimension": rec.proxy_dimension,
    }


def table_keys() -> list[tuple[str, str, int]]:
    """Every (model, sampler, N) of the precomputed table: the samplers each family can run."""
    from symsched.reference import MODELS

    out: list[tuple[str, str, int]] = []
    for m in MODELS:
        for s in sampler_names():
            try:
                _check_sampler(m, s)
            except ValueError:
                continue
            out.extend((m.name, s, n) for n in RECOMMEND_STEPS)
    return out


def write_table(path: Path, *, progress: bool = True) -> dict[str, Any]:
    """Compute every entry of :func:`table_keys` and write the table to ``path`` (JSON)."""
    from symsched._version import __version__

    doc: dict[str, Any] = {"version": __version__}
    keys = table_keys()
    for i, (model, sampler, n) in enumerate(keys):
        if progress:
            print(f"[{i + 1}/{len(keys)}] {model} {sampler} N={n}", file=sys.stderr, flush=True)
        rec = compute(model, sampler, n)
        doc.setdefault(model, {}).setdefault(sampler, {})[str(n)] = entry_json(rec)
    path.write_text(json.dumps(doc, indent=1) + "\n")
    return doc


if __name__ == "__main__":  # python -m symsched.recommend [FILE]: rebuild the shipped table
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "data" / _TABLE
    write_table(target)
