r"""Schedules (N-step grids with provenance) and the registry of methods that build them.

A :class:`Schedule` is what ``symsched schedule`` prints: the method, the N+1 descending noise
levels and every parameter that produced them (conventions.md, "JSON output"). Methods register
themselves with :func:`register_method`; the CLI reads the registry, so a new method (variational,
kl-optimal, stein, ays ...) needs no change to the CLI code beyond its own module.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from symsched._validate import as_eigenvalues, as_grid, check_steps
from symsched._version import __version__
from symsched.schedules import families

__all__ = [
    "METHODS",
    "MethodSpec",
    "OptionSpec",
    "Schedule",
    "build",
    "json_safe",
    "register_method",
]


def json_safe(value: Any) -> Any:
    """Convert numpy scalars/arrays and non-finite floats to JSON (``inf`` -> ``"inf"``; NaN refused)."""
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return [json_safe(v) for v in value.tolist()]
    if isinstance(value, (np.floating, float)):
        v = float(value)
        if math.isnan(v):
            raise ValueError("refusing to write NaN to JSON output")
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return v
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


@dataclass(frozen=True)
class Schedule:
    """An N-step grid ``sigmas = [sigma_0 > ... > sigma_N]`` with the parameters that produced it."""

    method: str
    sigmas: NDArray[np.float64]
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sigmas", as_grid(self.sigmas))

    @property
    def steps(self) -> int:
        return int(self.sigmas.size - 1)

    def to_json(self) -> dict[str, Any]:
        """The schedule object of conventions.md (``method``, ``steps``, ``sigmas``, ``params``, ``version``)."""
        return json_safe(
            {
                "method": self.method,
                "steps": self.steps,
                "sigmas": self.sigmas,
                "params": dict(self.params),
                "version": __version__,
            }
        )


@dataclass(frozen=True)
class OptionSpec:
    """A method option as the CLI exposes it (``--flag``), with argparse keyword arguments."""

    flag: str
    kwargs: Mapping[str, Any]

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")


@dataclass(frozen=True)
class MethodSpec:
    """A registered schedule method: ``build(steps, **options) -> Schedule``."""

    name: str
    build: Callable[..., Schedule]
    options: Sequence[OptionSpec]
    summary: str


METHODS: dict[str, MethodSpec] = {}


def register_method(
    name: str, options: Sequence[OptionSpec], summary: str
) -> Callable[[Callable[..., Schedule]], Callable[..., Schedule]]:
    """Decorator: register a schedule method under its CLI ``name``."""

    def deco(fn: Callable[..., Schedule]) -> Callable[..., Schedule]:
        METHODS[name] = MethodSpec(name, fn, tuple(options), summary)
        return fn

    return deco


def build(method: str, steps: int, **options: Any) -> Schedule:
    """Build a schedule by method name, e.g. ``build("karras", 10, rho=7.0)``.

    Options a method does not take raise ``ValueError`` naming them; ``None`` means "default".
    """
    _load_builtin_methods()
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(sorted(METHODS))}")
    spec = METHODS[method]
    given = {k: v for k, v in options.items() if v is not None}
    allowed = {o.dest for o in spec.options} | {"sigma_min", "sigma_max"}
    extra = set(given) - allowed
    if extra:
        flags = ", ".join("--" + e.replace("_", "-") for e in sorted(extra))
        raise ValueError(f"method {method} does not take {flags}")
    return spec.build(check_steps(steps, "steps"), **given)


_SPECTRUM_OPTIONS = (
    OptionSpec("--eigenvalues", {"metavar": "L", "help": "comma-separated covariance eigenvalues"}),
    OptionSpec(
        "--spectrum-file",
        {"metavar": "F", "help": "eigenvalues from a .npy or text file (one per line)"},
    ),
)


def _family_schedule(name: str, steps: int, **params: Any) -> Schedule:
    fam = families.family(name, **params)
    return Schedule(name, fam.grid(steps), dict(fam.params))


@register_method(
    "tangent",
    (
        OptionSpec("--c", {"type": float, "metavar": "C", "help": "tangent coefficient c"}),
        *_SPECTRUM_OPTIONS,
    ),
    "c*tan(...) uniform in arctan(sigma/c); with a spectrum, c = gamma* (gaussian_theory.md §5)",
)
def _tangent(
    steps: int,
    c: float | None = None,
    eigenvalues: Any = None,
    spectrum_file: Any = None,
    sigma_min: float | None = None,
    sigma_max: float | None = None,
) -> Schedule:
    from symsched.gaussian.tangent import gamma_star

    spectrum = eigenvalues if eigenvalues is not None else spectrum_file
    if (c is None) == (spectrum is None):
        raise ValueError(
            "tangent needs exactly one of --c C or a spectrum (--eigenvalues / --spectrum-file)"
        )
    params: dict[str, Any] = {}
    if spectrum is not None:
        lam = as_eigenvalues(spectrum)
        c = gamma_star(lam)
        params.update(
            {
                "gamma_star": c,
                "coefficient": "gamma* = (tr Sigma / tr Sigma^-1)^(1/4)",
                "spectrum_size": int(lam.size),
            }
        )
    sched = _family_schedule(
        "tangent",
        steps,
        c=c,
        sigma_min=0.0 if sigma_min is None else sigma_min,
        sigma_max=math.inf if sigma_max is None else sigma_max,
    )
    return Schedule("tangent", sched.sigmas, {**sched.params, **params})


@register_method(
    "karras",
    (OptionSpec("--rho", {"type": float, "metavar": "R", "help": "EDM rho exponent (default 7)"}),),
    "EDM rho-polynomial grid (Karras et al. 2022, Eq. 5)",
)
def _karras(steps: int, **kw: Any) -> Schedule:
    return _family_schedule("karras", steps, **kw)


@register_method("loglinear", (), "geometric grid, uniform in log sigma")
def _loglinear(steps: int, **kw: Any) -> Schedule:
    return _family_schedule("loglinear", steps, **kw)


_TIME_OPTIONS = (
    OptionSpec("--t-min", {"type": float, "metavar": "T", "help": "smallest diffusion time"}),
    OptionSpec("--t-max", {"type": float, "metavar": "T", "help": "largest diffusion time"}),
)


@register_method(
    "vp-linear",
    (
        OptionSpec("--beta-min", {"type": float, "metavar": "B", "help": "default 0.1"}),
        OptionSpec("--beta-max", {"type": float, "metavar": "B", "help": "default 20"}),
        *_TIME_OPTIONS,
    ),
    "DDPM linear beta, uniform in time from 1 to t_min = 1e-3",
)
def _vp_linear(steps: int, **kw: Any) -> Schedule:
    return _family_schedule("vp-linear", steps, **kw)


@register_method(
    "cosine",
    (
        OptionSpec("--s", {"type": float, "metavar": "S", "help": "offset s (default 0.008)"}),
        *_TIME_OPTIONS,
    ),
    "Nichol-Dhariwal cosine, uniform in time",
)
def _cosine(steps: int, **kw: Any) -> Schedule:
    return _family_schedule("cosine", steps, **kw)


_LOADED = False


def _load_builtin_methods() -> None:
    """Import every module of :mod:`symsched.schedules.methods`; each registers its methods on import."""
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    import importlib
    import pkgutil

    from symsched.schedules import methods

    for m in sorted(pkgutil.iter_modules(methods.__path__), key=lambda m: m.name):
        importlib.import_module(f"{methods.__name__}.{m.name}")
