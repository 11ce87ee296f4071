r"""Where two tools disagree for what users treat as the same schedule, measured.

Each :class:`MismatchCase` pairs two built-ins (or a tool's behaviour and its intended grid) that a
user would take to be one schedule — ComfyUI's ``simple`` and diffusers' ``trailing`` spacing, the
three ``kl_optimal`` s, the two "beta" schedules — and :func:`measure` computes, from the
reproductions of :mod:`symsched.builtin`:

* the executed steps of each side, and the largest absolute and relative difference between their
  levels where both have the same length;
* the exact KL(target || output) under the deterministic first-order sampler (``ddim``: the Euler
  step of k-diffusion, ComfyUI and A1111 in :math:`\sigma`, [sun2026, Eq. (9)]) and the exact
  coupling error under DPM-Solver++(2M) (:func:`symsched.gaussian.coupling.grouped_criteria`), on
  the Gaussian proxy spectrum of the model the schedule is for (:mod:`symsched.reference`).

The table is docs/conformance.md#mismatches and a section of the verification report.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from symsched._typing import FloatArray
from symsched.builtin._registry import get_builtin

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "MISMATCHES",
    "MismatchCase",
    "MismatchResult",
    "Side",
    "comfyui_manual_sigmas",
    "markdown_table",
    "measure",
    "measure_all",
    "plot_mismatches",
]

SCORE_SAMPLERS = ("ddim", "dpmpp-2m")
"""The samplers each side is scored under: KL(target || output) under the first one (the Euler
step the UIs default to), the coupling error under the second (the most used multistep solver)."""


@dataclass(frozen=True)
class Side:
    """One side of a comparison: a built-in at some steps and settings, or a named grid builder.

    Attributes
    ----------
    label
        How the table names it (``ComfyUI simple``).
    name
        The built-in ``TOOL:NAME``; ``None`` when ``levels`` gives the grid.
    steps
        Steps asked of the tool.
    settings
        The tool's options.
    levels
        For a grid that is not a built-in: a function returning this project's grid.
    """

    label: str
    name: str | None = None
    steps: int = 10
    settings: Mapping[str, object] = field(default_factory=dict)
    levels: Callable[[], FloatArray] | None = None

    def grid(self) -> tuple[FloatArray, NDArray[Any] | None]:
        """This project's grid of the side and the tool's own array (``None`` for a builder)."""
        if self.levels is not None:
            return np.asarray(self.levels(), dtype=np.float64), None
        assert self.name is not None
        g = get_builtin(self.name).build(self.steps, **dict(self.settings))
        return g.sigmas, g.tool_sigmas


@dataclass(frozen=True)
class MismatchCase:
    """Two things users treat as the same schedule.

    Attributes
    ----------
    key
        A short id (``simple-vs-trailing``).
    title
        What users take to be the same.
    left, right
        The two sides.
    model
        The model family whose Gaussian proxy scores both (:data:`symsched.reference.MODELS`).
    scored
        Whether the exact criteria compare the sides: not for partial-denoise grids, which start
        from a noised image rather than from the prior the criteria assume.
    """

    key: str
    title: str
    left: Side
    right: Side
    model: str = "sd15"
    scored: bool = True


@dataclass(frozen=True)
class MismatchResult:
    """The measured difference of a :class:`MismatchCase`.

    Attributes
    ----------
    case
        The case.
    left, right
        The two grids (this project's convention).
    max_abs, max_rel
        The largest ``|left - right|`` and ``|left/right - 1|`` over the finite nonzero levels
        when the grids have the same length (``None`` otherwise).
    kl
        KL(target || output) under ``ddim`` of left and right (``None`` if not scored).
    coupling
        The coupling error under ``dpmpp-2m`` of left and right (``None`` if not scored).
    """

    case: MismatchCase
    left: FloatArray
    right: FloatArray
    max_abs: float | None
    max_rel: float | None
    kl: tuple[float, float] | None
    coupling: tuple[float, float] | None

    @property
    def executed(self) -> tuple[int, int]:
        """The steps each side executes."""
        return int(self.left.size - 1), int(self.right.size - 1)

    @property
    def differs(self) -> bool:
        """Whether the two grids differ at all (length or any level)."""
        return self.left.size != self.right.size or bool(np.any(self.left != self.right))


def _proxy(model: str) -> tuple[FloatArray, FloatArray]:
    from symsched._validate import distinct_eigenvalues
    from symsched.recommend import _family
    from symsched.reference import proxy_spectrum

    values, counts = distinct_eigenvalues(proxy_spectrum(_family(model)))
    return values, counts.astype(np.float64)


def _scores(values: FloatArray, counts: FloatArray, sig: FloatArray) -> tuple[float, float]:
    from symsched.gaussian.coupling import grouped_criteria

    kl = grouped_criteria(values, counts, sig, sampler=SCORE_SAMPLERS[0]).kl_source_output
    cp = grouped_criteria(values, counts, sig, sampler=SCORE_SAMPLERS[1]).coupling
    return kl, cp


def _differences(a: FloatArray, b: FloatArray) -> tuple[float | None, float | None]:
    if a.size != b.size:
        return None, None
    keep = np.isfinite(a) & np.isfinite(b) & (a > 0) & (b > 0)
    if not keep.any():
        return 0.0, 0.0
    d = np.abs(a[keep] - b[keep])
    return float(d.max()), float((d / b[keep]).max())


def measure(case: MismatchCase) -> MismatchResult:
    """Build both sides, compare the levels and score both on the model's proxy spectrum."""
    a, _ = case.left.grid()
    b, _ = case.right.grid()
    max_abs, max_rel = _differences(a, b)
    if not case.scored:
        return MismatchResult(case, a, b, max_abs, max_rel, None, None)
    values, counts = _proxy(case.model)
    ka, ca = _scores(values, counts, a)
    kb, cb = _scores(values, counts, b)
    return MismatchResult(case, a, b, max_abs, max_rel, (ka, kb), (ca, cb))


def measure_all(cases: Sequence[MismatchCase] | None = None) -> list[MismatchResult]:
    """:func:`measure` over ``cases`` (default :data:`MISMATCHES`)."""
    return [measure(c) for c in (MISMATCHES if cases is None else cases)]


_COMFY_MANUAL = re.compile(r"[-+]?(?:\d*\.*\d+)")


def comfyui_manual_sigmas(text: str) -> list[float]:
    """The numbers ComfyUI's ``ManualSigmas`` node reads from ``text`` (before its float32 cast).

    Its pattern is an optional sign, digits and dots, then digits, with no exponent, so
    ``3e-05`` reads as ``3`` and ``-05`` (Comfy-Org/ComfyUI commit be91880bfd0d,
    ``comfy_extras/nodes_custom_sampler.py``, ``ManualSigmas.execute``;
    docs/conformance.md#mismatches). Compare :func:`symsched.score.parse_sigma_text`, which reads
    it as one number.
    """
    return [float(s) for s in _COMFY_MANUAL.findall(text)]


def _fmt(x: float | None) -> str:
    if x is None:
        return "–"
    if x == 0:
        return "0"
    return f"{x:.3g}"


def markdown_table(results: Sequence[MismatchResult]) -> str:
    """The findings as a Markdown table (one row per case)."""
    head = (
        "| Users treat as the same | Left | Right | Steps run (L / R) | max abs Δσ | max rel Δσ "
        "| KL ddim (L / R) | coupling dpmpp-2m (L / R) |\n|---|---|---|---|---|---|---|---|\n"
    )
    rows = []
    for r in results:
        c = r.case
        kl = "not scored" if r.kl is None else f"{_fmt(r.kl[0])} / {_fmt(r.kl[1])}"
        cp = (
            "not scored" if r.coupling is None else f"{_fmt(r.coupling[0])} / {_fmt(r.coupling[1])}"
        )
        rows.append(
            f"| {c.title} | {c.left.label} | {c.right.label} | {r.executed[0]} / {r.executed[1]} "
            f"| {_fmt(r.max_abs)} | {_fmt(r.max_rel)} | {kl} | {cp} |"
        )
    return head + "\n".join(rows) + "\n"


def _sd(name: str, steps: int, label: str, **settings: object) -> Side:
    if name.startswith("diffusers:") and "flow" not in name:
        settings = {**SD_CONFIG, **settings}
    return Side(label, name, steps, settings)


SD_CONFIG: dict[str, object] = {
    "beta_schedule": "scaled_linear",
    "beta_start": 0.00085,
    "beta_end": 0.012,
}
"""The beta table of Stable Diffusion 1.x/2.x/XL's ``scheduler_config.json``: every diffusers side
of an SD case is built on it (the classes' own default is DDPM's ``linear`` table)."""


MISMATCHES: list[MismatchCase] = []
"""The cases of docs/conformance.md#mismatches (filled by :func:`_register_cases`)."""


def _register_cases() -> None:
    add = MISMATCHES.append
    add(
        MismatchCase(
            "simple-vs-trailing",
            "ComfyUI `simple` and diffusers `trailing` spacing (SD1.5, N = 7)",
            _sd("comfyui:simple", 7, "ComfyUI simple", model="sd15"),
            _sd("diffusers:euler", 7, "diffusers Euler, trailing", timestep_spacing="trailing"),
        )
    )
    add(
        MismatchCase(
            "karras-sd-table",
            "Karras on the SD1.5 range: ComfyUI (float64 table) and diffusers (float32 betas)",
            _sd("comfyui:karras", 20, "ComfyUI karras", model="sd15"),
            _sd(
                "diffusers:euler", 20, "diffusers Euler, use_karras_sigmas", use_karras_sigmas=True
            ),
        )
    )
    add(
        MismatchCase(
            "beta-two-schedules",
            '"beta" (SD1.5, N = 10): ComfyUI (Beta quantiles of the timestep index) and '
            "diffusers (of σ)",
            _sd("comfyui:beta", 10, "ComfyUI beta", model="sd15"),
            _sd("diffusers:euler", 10, "diffusers Euler, use_beta_sigmas", use_beta_sigmas=True),
        )
    )
    for n in (200, 500, 1000):
        add(
            MismatchCase(
                f"beta-steps-{n}",
                f'"beta" at N = {n}: the steps asked are the steps run',
                _sd("comfyui:beta", n, "ComfyUI beta", model="sd15"),
                _sd("diffusers:euler", n, "diffusers Euler, use_beta_sigmas", use_beta_sigmas=True),
            )
        )
    add(
        MismatchCase(
            "kl-optimal-comfy-a1111",
            "`kl_optimal` (SD1.5, N = 10): ComfyUI and A1111",
            _sd("comfyui:kl_optimal", 10, "ComfyUI kl_optimal", model="sd15"),
            _sd("a1111:kl_optimal", 10, "A1111 kl_optimal", model="sd15"),
        )
    )
    add(
        MismatchCase(
            "zero-terminal-snr",
            "Zero terminal SNR (SD1.5 table rescaled, N = 20, `normal` / linspace)",
            _sd("comfyui:normal", 20, "ComfyUI normal, zsnr", model="sd15", zsnr=True),
            _sd(
                "diffusers:euler",
                20,
                "diffusers Euler, rescale_betas_zero_snr, linspace",
                rescale_betas_zero_snr=True,
                timestep_spacing="linspace",
            ),
        )
    )
    add(
        MismatchCase(
            "flux-simple",
            "Flux at its default 28 steps: ComfyUI `simple` (μ = 1.15) and the diffusers Flux "
            "pipeline (μ = 1.15)",
            _sd("comfyui:simple", 28, "ComfyUI simple, flux", model="flux"),
            _sd(
                "diffusers:flow-euler",
                28,
                "diffusers FlowMatchEuler, Flux pipeline sigmas",
                use_dynamic_shifting=True,
                mu=1.15,
                sigmas="linspace",
            ),
            model="flow",
        )
    )
    add(
        MismatchCase(
            "dpm-vs-euler-linspace",
            'diffusers `timestep_spacing="linspace"` (SD1.5, N = 20): DPM-Solver multistep and '
            "Euler",
            _sd(
                "diffusers:dpmpp-2m",
                20,
                "diffusers DPMSolverMultistep, linspace",
                timestep_spacing="linspace",
            ),
            _sd("diffusers:euler", 20, "diffusers Euler, linspace", timestep_spacing="linspace"),
        )
    )
    add(
        MismatchCase(
            "ays-comfy-a1111",
            "Align Your Steps SD1.5 at N = 10: ComfyUI node and A1111",
            _sd("comfyui:ays", 10, "ComfyUI AlignYourStepsScheduler", model_type="SD1"),
            _sd("a1111:align_your_steps", 10, "A1111 align_your_steps", model="sd15"),
        )
    )
    add(
        MismatchCase(
            "ays-sdxl-tables",
            "Align Your Steps SDXL at its own 10 steps: ComfyUI's table and A1111's",
            _sd("comfyui:ays", 10, "ComfyUI AlignYourStepsScheduler", model_type="SDXL"),
            _sd("a1111:align_your_steps", 10, "A1111 align_your_steps", model="sdxl"),
            model="sdxl",
        )
    )
    add(
        MismatchCase(
            "denoise",
            "`denoise = 0.5` at 10 steps: KSampler/BasicScheduler and the AYS node",
            _sd("comfyui:karras", 10, "ComfyUI karras, denoise 0.5", model="sd15", denoise=0.5),
            _sd("comfyui:ays", 10, "ComfyUI AYS, denoise 0.5", model_type="SD1", denoise=0.5),
            scored=False,
        )
    )


_register_cases()


def manual_sigmas_finding(text: str = "14.61, 1.0, 0.5, 3e-05, 0.0") -> dict[str, object]:
    """What ComfyUI's ``ManualSigmas`` and :func:`symsched.score.parse_sigma_text` read from a
    list with an exponent, and whether ComfyUI's reading is a grid at all."""
    from symsched.score import parse_sigma_text

    comfy = comfyui_manual_sigmas(text)
    ours = [float(v) for v in parse_sigma_text(text)]
    decreasing = all(a > b for a, b in itertools.pairwise(comfy))
    return {
        "text": text,
        "comfyui": comfy,
        "symsched": ours,
        "comfyui_is_a_grid": decreasing and all(v >= 0 and math.isfinite(v) for v in comfy),
    }


def plot_mismatches(results: Sequence[MismatchResult], keys: Sequence[str] | None = None) -> Figure:
    r"""Both sides of each case as :math:`\log_{10}\sigma_k` against the step :math:`k`, one
    panel per case, each with its own legend; the title of a panel names the case's model. The left
    side of every case is drawn solid blue, the right side dashed vermillion.

    Parameters
    ----------
    results
        Measured cases (:func:`measure_all`).
    keys
        The cases to draw (default: every case of at most 60 steps).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from symsched._figures import new_figure, tidy
    from symsched.plot_style import PALETTE, Style

    chosen = [
        r
        for r in results
        if (keys is None and max(r.executed) <= 60) or (keys is not None and r.case.key in keys)
    ]
    cols = 3
    rows = max(1, math.ceil(len(chosen) / cols))
    fig = new_figure((4.6 * cols, 3.4 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    # the left side of every case in one look, the right side in another
    left = Style(PALETTE["blue"], "o", "-", "left")
    right = Style(PALETTE["vermillion"], "s", "--", "right")
    for ax, r in zip(axes.flat, chosen, strict=False):
        for side, grid, st in ((r.case.left, r.left, left), (r.case.right, r.right, right)):
            k = np.arange(grid.size)
            keep = np.isfinite(grid) & (grid > 0)
            ax.plot(k[keep], np.log10(grid[keep]), ms=3.5, lw=1.2, **st.kwargs(label=side.label))
        ax.set_xlabel("step k (last level 0 not drawn)")
        ax.set_ylabel(r"$\log_{10}\sigma_k$")
        proxy = "flow" if r.case.model == "flow" else r.case.model.upper()
        score = "" if r.kl is None else f"\nKL ddim {_fmt(r.kl[0])} vs {_fmt(r.kl[1])}"
        ax.set_title(f"{r.case.key} ({proxy} proxy){score}", fontsize=9)
        ax.legend(fontsize=7, loc="upper right")
    for ax in list(axes.flat)[len(chosen) :]:
        ax.set_visible(False)
    fig.suptitle("Where tools disagree on what users treat as the same schedule", fontsize=11)
    return tidy(fig)
