r"""The specs of the named compiled functions (:mod:`symsched._compiled`): each name's SymPy
derivation, as the arguments and the expression :func:`symsched.numeric.lambdify` compiles.

This module imports SymPy and runs the derivations; the code generator
(:mod:`symsched._codegen`) and the torch / mpmath backends use it, the numpy hot paths never do.
Names:

- the Gaussian theory of :mod:`symsched.gaussian.derive` (``ddim_gain_rho``,
  ``variance_loss_step``, ``cos2_angle_step``, their pure-noise limits, the prior start term);
- ``ddim.*``: the log forms of :func:`symsched.samplers.ddim.log_loss_forms`;
- ``linear.SAMPLER.PART``: each registered sampler's linear map
  (:meth:`symsched.samplers.Sampler.linear_map_form`, as
  :func:`symsched.samplers._linear.compiled_form` compiles it);
- ``family.NAME.PART``: the built-in schedule families of :mod:`symsched.schedules.families`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import sympy as sp

from symsched.gaussian import derive
from symsched.symbols import a, b, lam

__all__ = ["derive_spec", "names"]

Spec = Callable[[], tuple[tuple[sp.Symbol, ...], sp.Expr]]


def _gaussian() -> dict[str, Spec]:
    from symsched.samplers import _base

    return {
        "ddim_gain_rho": lambda: ((a, b, lam), derive.ddim_gain_rho()),
        "variance_loss_step": lambda: ((a, b, lam), derive.variance_loss_step()),
        "cos2_angle_step": lambda: ((a, b, lam), derive.cos2_angle_step()),
        "variance_loss_from_pure_noise": lambda: ((b, lam), derive.variance_loss_from_pure_noise()),
        "cos2_pure_noise": lambda: ((b, lam), derive.cos2_pure_noise()),
        "pure_noise_first_step_variance": lambda: ((b,), derive.pure_noise_first_step_variance()),
        "prior_start_log_ratio": lambda: ((a, lam), derive.prior_start_log_ratio()),
        "prior_start_log_ratio_stable": lambda: ((a, lam), _base.prior_start_log_ratio_stable()),
    }


def _ddim() -> dict[str, Spec]:
    from symsched.samplers import ddim

    def part(i: int, args: tuple[sp.Symbol, ...]) -> Spec:
        return lambda: (args, ddim.log_loss_forms()[i])

    return {
        "ddim.log_loss": part(0, (a, b, lam)),
        "ddim.log_cos2": part(1, (a, b, lam)),
        "ddim.log_loss_inf": part(2, (b, lam)),
        "ddim.log_cos2_inf": part(3, (b, lam)),
    }


def _linear_maps() -> dict[str, Spec]:
    from symsched.samplers import SAMPLERS
    from symsched.samplers._derive import a_prev

    out: dict[str, Spec] = {}
    for name, smp in SAMPLERS.items():
        form = smp.linear_map_form()
        args = (a, b, a_prev, lam, *form.knob_symbols)
        pn_args = (b, lam, *form.knob_symbols)
        parts: dict[str, tuple[tuple[sp.Symbol, ...], sp.Expr | None]] = {
            "step": (args, form.step),
            "first": (args, form.first if form.first is not None else form.step),
            "to_zero": (args, form.to_zero if form.to_zero is not None else form.step.subs(b, 0)),
            "history": (args, form.history),
            "noise": (args, form.noise),
            "pure_noise": (pn_args, form.pure_noise),
            "pure_noise_noise": (pn_args, form.pure_noise_noise),
        }
        for part, (arg, expr) in parts.items():
            if expr is not None:
                out[f"linear.{name}.{part}"] = functools.partial(
                    lambda arg, expr: (arg, sp.sympify(expr)), arg, expr
                )
    return out


def _families() -> dict[str, Spec]:
    from symsched.schedules import families

    syms = families._symbols()

    def part(kind: str, key: str) -> Spec:
        def spec() -> tuple[tuple[sp.Symbol, ...], sp.Expr]:
            if key in ("rho_of_t", "t_of_rho"):
                first = syms["t"] if key == "rho_of_t" else syms["level"]
                params = families.TIME_PARAMETERS[kind]
            else:
                first = syms["u"] if key == "rho" else syms["level"]
                params = families.FAMILY_PARAMETERS[kind]
            fam = families.Family(kind, numbers=dict.fromkeys(params, 1.0), params={})
            expr = fam.progress_of_rho if key == "progress_of_rho" else getattr(fam, key)
            return (first, *(syms[p] for p in params)), expr

        return spec

    out: dict[str, Spec] = {}
    for kind in families.BUILTIN_FAMILIES:
        keys = ["rho", "progress_of_rho"]
        if kind in families.TIME_PARAMETERS:
            keys += ["rho_of_t", "t_of_rho"]
        for key in keys:
            out[f"family.{kind}.{key}"] = part(kind, key)
    return out


@functools.cache
def _all() -> dict[str, Spec]:
    return {**_gaussian(), **_ddim(), **_linear_maps(), **_families()}


def names() -> tuple[str, ...]:
    """Every name with a spec, in the order the generated module lists them."""
    return tuple(_all())


def derive_spec(name: str) -> tuple[tuple[sp.Symbol, ...], sp.Expr]:
    """The arguments and the expression of ``name`` (the derivation runs here).

    Raises
    ------
    KeyError
        If ``name`` has no spec.
    """
    specs = _all()
    if name not in specs:
        raise KeyError(f"no compiled-function spec named {name!r}")
    return specs[name]()
