"""symsched nodes for ComfyUI: optimal, any-method and Stein ``SIGMAS``, and grid scores.

A ComfyUI custom node pack (copy or symlink this folder into ``ComfyUI/custom_nodes``; README.md).
The maths is symsched's (:mod:`symsched.integrations.comfyui`); this module only adapts it:

* ``comfy_entrypoint`` returns a V3 ``ComfyExtension`` (``comfy_api.latest`` is imported inside
  it) when ``comfy_api.latest`` imports; otherwise the module exports the V1
  ``NODE_CLASS_MAPPINGS`` / ``NODE_DISPLAY_NAME_MAPPINGS`` instead (ComfyUI's loader takes
  ``NODE_CLASS_MAPPINGS`` whenever it is present, so it is only defined for a ComfyUI without V3).
* :func:`register_schedulers` adds symsched entries to the KSampler scheduler list in place
  (``comfy.samplers.SCHEDULER_HANDLERS``, ``SCHEDULER_NAMES`` and ``KSampler.SCHEDULERS``, never
  rebound). It runs on import when ``comfy.samplers`` imports, unless the environment variable
  ``SYMSCHED_COMFYUI_SCHEDULERS`` is ``0``.

Both node APIs are built from one table of node specifications (:data:`NODES`), so the V1 and V3
nodes take the same inputs and return the same outputs.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ENV_SCHEDULERS",
    "NODES",
    "SCHEDULER_ENTRIES",
    "comfy_entrypoint",
    "register_schedulers",
]

_log = logging.getLogger("symsched_nodes")

CATEGORY = "sampling/custom_sampling/schedulers"
"""Where the nodes appear (beside ComfyUI's own scheduler nodes)."""

ENV_SCHEDULERS = "SYMSCHED_COMFYUI_SCHEDULERS"
"""Set to ``0`` to keep the symsched entries out of the KSampler scheduler list."""

SCHEDULER_ENTRIES: dict[str, str] = {
    "symsched_euler": "ddim",
    "symsched_dpmpp_2m": "dpmpp-2m",
    "symsched_heun": "heun",
    "symsched_ancestral": "ancestral",
}
"""KSampler scheduler name -> the symsched sampler whose optimal grid it returns (ComfyUI's
``euler`` is DDIM on the VE ODE: docs/theory/samplers.md#reference-implementations)."""

FAMILY_CHOICES = ("sdxl", "sd15", "edm", "ddpm", "flow", "custom")


def _api() -> Any:
    """:mod:`symsched.integrations.comfyui` (imported on first use)."""
    return importlib.import_module("symsched.integrations.comfyui")


def _sampler_choices() -> list[str]:
    from symsched.samplers import sampler_names

    return [s for s in sampler_names() if s != "exact-flow"]


def _method_choices() -> list[str]:
    from symsched.schedules import METHODS

    return sorted(METHODS)


# -- node specifications --------------------------------------------------------------------------


@dataclass(frozen=True)
class In:
    """One node input: ``kind`` is the ComfyUI type (``INT``, ``FLOAT``, ``COMBO``, ``STRING``,
    ``BOOLEAN``, ``MODEL``, ``SIGMAS``, ``CONDITIONING``, ``LATENT``)."""

    name: str
    kind: str
    tooltip: str
    default: Any = None
    options: dict[str, Any] = field(default_factory=dict)
    choices: Callable[[], list[str]] | None = None
    optional: bool = False


@dataclass(frozen=True)
class Out:
    """One node output (``SIGMAS``, ``STRING`` or ``FLOAT``)."""

    kind: str
    name: str


@dataclass(frozen=True)
class NodeSpec:
    """A node: its id, display name, description, inputs, outputs and what it runs."""

    node_id: str
    display_name: str
    description: str
    inputs: tuple[In, ...]
    outputs: tuple[Out, ...]
    run: Callable[..., tuple[Any, ...]]


def _steps(default: int = 10) -> In:
    return In(
        "steps",
        "INT",
        "N, the number of steps (N+1 sigmas ending at 0)",
        default,
        {"min": 1, "max": 1000},
    )


def _flow() -> In:
    return In(
        "flow",
        "BOOLEAN",
        "a flow model (SD3, Flux): sigmas and the range are flow times t in [0, 1]; symsched "
        "works in rho = t/(1-t)",
        False,
    )


def _level(name: str, default: float, tip: str) -> In:
    return In(
        name, "FLOAT", tip, default, {"min": 0.0, "max": 10000.0, "step": 0.001, "round": False}
    )


def _spectrum_text(spectrum: str, eigenvalues: str) -> str:
    if spectrum != "custom":
        return spectrum
    if not eigenvalues.strip():
        raise ValueError("spectrum is custom: give the eigenvalues (comma separated)")
    return eigenvalues


def _run_optimal(
    steps: int,
    sampler: str,
    spectrum: str,
    family_range: bool,
    sigma_min: float,
    sigma_max: float,
    objective: str,
    flow: bool,
    eigenvalues: str = "",
) -> tuple[Any, ...]:
    api = _api()
    lo, hi = (None, None) if family_range and spectrum != "custom" else (sigma_min, sigma_max)
    grid = api.optimal_sigmas(
        steps,
        sampler,
        lo,
        hi,
        _spectrum_text(spectrum, eigenvalues),
        objective=objective,
        flow=flow,
    )
    return grid.tensor(), grid.summary()


def _run_method(
    method: str,
    steps: int,
    options: str,
    set_range: bool,
    sigma_min: float,
    sigma_max: float,
    spectrum: str,
    flow: bool,
    eigenvalues: str = "",
) -> tuple[Any, ...]:
    api = _api()
    lo, hi = (sigma_min, sigma_max) if set_range else (None, None)
    grid = api.method_sigmas(
        method,
        steps,
        options=options,
        sigma_min=lo,
        sigma_max=hi,
        spectrum=_spectrum_text(spectrum, eigenvalues),
        flow=flow,
    )
    return grid.tensor(), grid.summary()


def _run_score(
    sigmas: Any,
    spectrum: str,
    samplers: str,
    flow: bool,
    optimum: bool,
    eigenvalues: str = "",
) -> tuple[Any, ...]:
    api = _api()
    rep = api.score_sigmas(
        sigmas, _spectrum_text(spectrum, eigenvalues), samplers, flow=flow, optimum=optimum
    )
    return rep.text(), rep.kl()


def _comfy_stein(
    model: Any,
    positive: Any,
    negative: Any,
    latent: Any,
    steps: int,
    cfg: float,
    sigma_min: float,
    sigma_max: float,
    flow: bool,
    estimator: str,
    samples: int,
    probe_levels: int,
    seed: int,
) -> tuple[Any, ...]:
    """Run :func:`symsched.integrations.comfyui.stein_sigmas` on ComfyUI's own denoiser.

    The estimate runs inside a ComfyUI sampler function (``comfy.samplers.KSAMPLER``) handed to
    ``comfy.sample.sample_custom``: ComfyUI prepares the model, the conditioning and CFG as for a
    real sampling run, and calls the function with its denoiser ``model_k(x, sigma, **extra_args)``
    (the k-diffusion convention, in the model's own sigma: flow time t for flow models) and the
    latent in model space (``model_k.latent_image``), which are the data rows. The function
    returns its input unchanged; the grid is the node's output.
    """
    import comfy.sample
    import comfy.samplers
    import torch

    api = _api()
    ms = model.get_model_object("model_sampling")
    lo_m, hi_m = float(ms.sigma_min), float(ms.sigma_max)
    lo = lo_m if sigma_min <= 0 else sigma_min
    hi = hi_m if sigma_max <= 0 else sigma_max
    note = ""
    if flow and hi >= 1.0:
        hi = api.FLOW_T_MAX
        note = f" (top flow time {hi:g}: the Stein cost needs a finite top level)"
    rows = latent["samples"]
    shape = tuple(rows.shape[1:])
    found: dict[str, Any] = {}

    def stein_function(
        model_k: Any,
        x: Any,
        sigmas: Any,
        extra_args: Any = None,
        callback: Any = None,
        disable: Any = None,
        **_: Any,
    ) -> Any:
        extra = dict(extra_args or {})
        data = getattr(model_k, "latent_image", None)
        data = rows if data is None else data

        def denoiser(xs: Any, sig: Any) -> Any:
            with torch.no_grad() if estimator == "monte-carlo" else contextlib.nullcontext():
                out = model_k(xs.to(x.device, x.dtype), sig.to(x.device, x.dtype), **extra)
            return out

        found["grid"] = api.stein_sigmas(
            denoiser,
            shape,
            steps,
            data=data,
            sigma_min=lo,
            sigma_max=hi,
            flow=flow,
            estimator=estimator,
            samples=samples,
            probe_levels=None if probe_levels <= 0 else probe_levels,
            seed=seed,
        )
        return x

    sampler = comfy.samplers.KSAMPLER(stein_function)
    noise = torch.zeros_like(rows)
    top = torch.tensor([hi_m, 0.0], dtype=torch.float32)
    comfy.sample.sample_custom(
        model, noise, cfg, sampler, top, positive, negative, rows, disable_pbar=True, seed=seed
    )
    if "grid" not in found:
        raise RuntimeError("ComfyUI did not run the Stein estimate (the sampler was not called)")
    grid = found["grid"]
    return grid.tensor(), grid.summary() + note


_SPECTRUM = In(
    "spectrum",
    "COMBO",
    "the Gaussian spectrum: a model family's proxy (symsched.reference) or custom eigenvalues",
    "sdxl",
    choices=lambda: list(FAMILY_CHOICES),
)
_EIGENVALUES = In(
    "eigenvalues",
    "STRING",
    "custom spectrum: eigenvalues, comma separated",
    "",
    {"multiline": True},
    optional=True,
)

NODES: tuple[NodeSpec, ...] = (
    NodeSpec(
        "SymschedOptimalSigmas",
        "symsched Optimal Sigmas",
        "The exact optimum of an N-step grid for a sampler (its coupling error or KL on a "
        "Gaussian spectrum), ending with the step to 0 (docs/theory/coupling.md).",
        (
            _steps(),
            In(
                "sampler",
                "COMBO",
                "the sampler the grid is optimised for",
                "ddim",
                choices=_sampler_choices,
            ),
            _SPECTRUM,
            In("family_range", "BOOLEAN", "use the family's own noise range", True),
            _level("sigma_min", 0.0292, "smallest level before the step to 0"),
            _level("sigma_max", 14.6146, "largest level"),
            In(
                "objective",
                "COMBO",
                "recommended: coupling error (deterministic samplers) or KL (stochastic ones)",
                "recommended",
                choices=lambda: ["recommended", "kl", "coupling"],
            ),
            _flow(),
            _EIGENVALUES,
        ),
        (Out("SIGMAS", "sigmas"), Out("STRING", "summary")),
        _run_optimal,
    ),
    NodeSpec(
        "SymschedMethodSigmas",
        "symsched Method Sigmas",
        "Any symsched schedule method by name with its options as a JSON object, ended at 0.",
        (
            In(
                "method",
                "COMBO",
                "a symsched method (symsched schedule --help)",
                "karras",
                choices=_method_choices,
            ),
            _steps(),
            In(
                "options",
                "STRING",
                'the method\'s options, a JSON object such as {"rho": 7}',
                "{}",
                {"multiline": True},
            ),
            In("set_range", "BOOLEAN", "pass sigma_min / sigma_max to the method", False),
            _level("sigma_min", 0.0292, "smallest level (with set_range)"),
            _level("sigma_max", 14.6146, "largest level (with set_range)"),
            _SPECTRUM,
            _flow(),
            _EIGENVALUES,
        ),
        (Out("SIGMAS", "sigmas"), Out("STRING", "summary")),
        _run_method,
    ),
    NodeSpec(
        "SymschedSteinSigmas",
        "symsched Stein Sigmas",
        "The score-optimal (Stein-cost) grid of the model, estimated on latents of the data "
        "(Williams et al. 2024, Algorithm 1; docs/theory/stein.md).",
        (
            In("model", "MODEL", "the diffusion model", None),
            In("positive", "CONDITIONING", "positive conditioning", None),
            In("negative", "CONDITIONING", "negative conditioning", None),
            In(
                "latent",
                "LATENT",
                "data latents (VAE-encoded images): the estimator noises them",
                None,
            ),
            _steps(),
            In(
                "cfg",
                "FLOAT",
                "guidance scale of the denoiser",
                1.0,
                {"min": 0.0, "max": 100.0, "step": 0.1, "round": 0.01},
            ),
            _level("sigma_min", 0.0, "smallest level before the step to 0 (0: the model's)"),
            _level("sigma_max", 0.0, "largest level (0: the model's)"),
            _flow(),
            In(
                "estimator",
                "COMBO",
                "monte-carlo (forward passes only) or jvp",
                "monte-carlo",
                choices=lambda: ["monte-carlo", "jvp"],
            ),
            In("samples", "INT", "samples per probe level", 32, {"min": 1, "max": 4096}),
            In(
                "probe_levels",
                "INT",
                "probe intervals (0: max(128, 8 N))",
                0,
                {"min": 0, "max": 100000},
            ),
            In("seed", "INT", "random seed", 0, {"min": 0, "max": 2**32 - 1}),
        ),
        (Out("SIGMAS", "sigmas"), Out("STRING", "summary")),
        _comfy_stein,
    ),
    NodeSpec(
        "SymschedScoreSigmas",
        "symsched Score Sigmas",
        "Both exact KLs and the coupling error of a SIGMAS list under each sampler, on a "
        "Gaussian spectrum (docs/theory/coupling.md#scoring-a-grid).",
        (
            In("sigmas", "SIGMAS", "the grid to score", None),
            _SPECTRUM,
            In(
                "samplers",
                "STRING",
                "comma separated samplers (empty: every one that accepts the grid)",
                "",
            ),
            _flow(),
            In("optimum", "BOOLEAN", "also compute each sampler's exact optimum (the gap)", False),
            _EIGENVALUES,
        ),
        (Out("STRING", "report"), Out("FLOAT", "kl")),
        _run_score,
    ),
)
"""Every node of the pack."""


# -- V1 -------------------------------------------------------------------------------------------


def _v1_input(i: In) -> tuple[Any, ...]:
    if i.kind == "COMBO":
        assert i.choices is not None
        return (i.choices(), {"default": i.default, "tooltip": i.tooltip})
    if i.default is None:
        return (i.kind, {"tooltip": i.tooltip})
    return (i.kind, {"default": i.default, "tooltip": i.tooltip, **i.options})


def _v1_class(spec: NodeSpec) -> type:
    def input_types(cls: type) -> dict[str, dict[str, tuple[Any, ...]]]:
        out: dict[str, dict[str, tuple[Any, ...]]] = {"required": {}}
        for i in spec.inputs:
            out.setdefault("optional" if i.optional else "required", {})[i.name] = _v1_input(i)
        return out

    def run(self: object, **kwargs: Any) -> tuple[Any, ...]:
        return spec.run(**kwargs)

    return type(
        spec.node_id,
        (),
        {
            "INPUT_TYPES": classmethod(input_types),
            "RETURN_TYPES": tuple(o.kind for o in spec.outputs),
            "RETURN_NAMES": tuple(o.name for o in spec.outputs),
            "FUNCTION": "run",
            "CATEGORY": CATEGORY,
            "DESCRIPTION": spec.description,
            "run": run,
            "__doc__": spec.description,
        },
    )


# -- V3 -------------------------------------------------------------------------------------------


def _v3_input(io: Any, i: In) -> Any:
    common: dict[str, Any] = {"tooltip": i.tooltip, "optional": i.optional}
    if i.kind == "COMBO":
        assert i.choices is not None
        return io.Combo.Input(i.name, options=i.choices(), default=i.default, **common)
    simple = {
        "MODEL": "Model",
        "SIGMAS": "Sigmas",
        "CONDITIONING": "Conditioning",
        "LATENT": "Latent",
    }
    if i.kind in simple:
        return getattr(io, simple[i.kind]).Input(i.name, **common)
    kind = {"INT": io.Int, "FLOAT": io.Float, "STRING": io.String, "BOOLEAN": io.Boolean}[i.kind]
    return kind.Input(i.name, default=i.default, **common, **i.options)


def _v3_output(io: Any, o: Out) -> Any:
    kind = {"SIGMAS": io.Sigmas, "STRING": io.String, "FLOAT": io.Float}[o.kind]
    return kind.Output(display_name=o.name)


def _v3_class(io: Any, spec: NodeSpec) -> type:
    def define_schema(cls: type) -> Any:
        return io.Schema(
            node_id=spec.node_id,
            display_name=spec.display_name,
            category=CATEGORY,
            description=spec.description,
            inputs=[_v3_input(io, i) for i in spec.inputs],
            outputs=[_v3_output(io, o) for o in spec.outputs],
        )

    def execute(cls: type, **kwargs: Any) -> Any:
        return io.NodeOutput(*spec.run(**kwargs))

    return type(
        spec.node_id,
        (io.ComfyNode,),
        {
            "define_schema": classmethod(define_schema),
            "execute": classmethod(execute),
            "__doc__": spec.description,
        },
    )


def v3_nodes() -> list[type]:
    """The V3 node classes (imports ``comfy_api.latest``)."""
    from comfy_api.latest import io

    return [_v3_class(io, spec) for spec in NODES]


async def comfy_entrypoint() -> Any:
    """The V3 extension: its ``get_node_list`` returns the four nodes."""
    from comfy_api.latest import ComfyExtension

    class SymschedExtension(ComfyExtension):
        async def get_node_list(self) -> list[type]:
            return v3_nodes()

    return SymschedExtension()


def _v3_available() -> bool:
    try:
        importlib.import_module("comfy_api.latest")
    except Exception:  # not ComfyUI, or a ComfyUI before V3: the V1 nodes
        return False
    return True


# -- the KSampler scheduler list ------------------------------------------------------------------


def _handler(sampler: str) -> Callable[..., Any]:
    def handler(n: int, sigma_min: float, sigma_max: float) -> Any:
        return _api().scheduler_sigmas(sampler, n, sigma_min, sigma_max).tensor()

    handler.__name__ = f"symsched_{sampler.replace('-', '_')}_scheduler"
    return handler


def register_schedulers(samplers: Any = None) -> list[str]:
    """Add :data:`SCHEDULER_ENTRIES` to ComfyUI's KSampler scheduler list, in place.

    Each entry is a ``SchedulerHandler(handler, use_ms=False)``; ComfyUI calls
    ``handler(n=steps, sigma_min=..., sigma_max=...)`` with the model's range, and the handler
    returns :func:`symsched.integrations.comfyui.scheduler_sigmas` as a float32 tensor. The lists
    ``SCHEDULER_NAMES`` and ``KSampler.SCHEDULERS`` (when it is a separate list) are appended to,
    never rebound, so every node that imported them sees the entries. Idempotent.

    A ComfyUI without ``SchedulerHandler`` / ``SCHEDULER_HANDLERS`` (before mid 2025) chose the
    scheduler in an ``if`` chain of ``calculate_sigmas_scheduler`` that no list entry reaches;
    there, nothing is changed (a warning is logged): use the nodes instead.

    Parameters
    ----------
    samplers
        The ``comfy.samplers`` module (default: imported).

    Returns
    -------
    list[str]
        The names added by this call (empty when already registered or refused).
    """
    s = importlib.import_module("comfy.samplers") if samplers is None else samplers
    handler_cls = getattr(s, "SchedulerHandler", None)
    handlers = getattr(s, "SCHEDULER_HANDLERS", None)
    names = getattr(s, "SCHEDULER_NAMES", None)
    if handler_cls is None or not isinstance(handlers, dict) or not isinstance(names, list):
        _log.warning(
            "symsched: this ComfyUI has no SCHEDULER_HANDLERS/SchedulerHandler; the KSampler "
            "scheduler list is left unchanged (use the symsched SIGMAS nodes)"
        )
        return []
    ks = getattr(getattr(s, "KSampler", None), "SCHEDULERS", None)
    added: list[str] = []
    for name, sampler in SCHEDULER_ENTRIES.items():
        if name not in handlers:
            handlers[name] = handler_cls(_handler(sampler), use_ms=False)
        if name not in names:
            names.append(name)
            added.append(name)
        if isinstance(ks, list) and ks is not names and name not in ks:
            ks.append(name)
    return added


def _register_on_import() -> None:
    if os.environ.get(ENV_SCHEDULERS, "1").strip() == "0":
        return
    try:
        samplers = importlib.import_module("comfy.samplers")
    except Exception:  # not inside ComfyUI
        return
    try:
        register_schedulers(samplers)
    except Exception as exc:  # never break loading the nodes
        _log.warning("symsched: could not add the KSampler schedulers: %s", exc)


# -- exports --------------------------------------------------------------------------------------

_register_on_import()

if not _v3_available():
    NODE_CLASS_MAPPINGS = {spec.node_id: _v1_class(spec) for spec in NODES}
    NODE_DISPLAY_NAME_MAPPINGS = {spec.node_id: spec.display_name for spec in NODES}
    __all__ += ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS"]
