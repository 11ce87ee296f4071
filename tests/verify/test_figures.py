"""The figure check catches the defects it is for, on deliberately wrong figures, and passes
figures drawn the project's way (:mod:`symsched.plot_style`, :func:`symsched._figures.tidy`)."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from symsched._figures import line_plot, new_figure, tidy
from symsched.highdim.plots import plot_steps_needed
from symsched.plot_style import PALETTE, STYLES, label, style, styles
from symsched_verify.figures import caption_problems, figure_problems, outcome_problems
from symsched_verify.registry import Outcome

STEPS = [4, 6, 10, 20, 50]


def _panels(n: int) -> tuple[Figure, list[Axes]]:
    fig = new_figure((4.0 * n, 3.4))
    axes = list(fig.subplots(1, n, squeeze=False)[0])
    for i, ax in enumerate(axes):
        ax.set_title(f"model {i}")
        ax.set_xlabel("steps N")
        ax.set_ylabel("KL")
    return fig, axes


def test_one_legend_for_panels_with_other_methods_is_caught() -> None:
    # the defect of the old reference-set figure: each panel cycles its own colours, one legend
    fig, axes = _panels(2)
    for ax, methods in zip(axes, (["karras", "ays"], ["flow-uniform", "tangent"]), strict=True):
        for m in methods:
            ax.loglog(STEPS, np.array(STEPS, dtype=float) ** -2, "o-", label=m)
    axes[-1].legend()
    problems = figure_problems(fig)
    assert any("axes 0" in p and "no legend" in p for p in problems), problems


def test_a_figure_legend_missing_a_panel_s_series_is_caught() -> None:
    fig, axes = _panels(2)
    for ax, methods in zip(axes, (["karras", "ays"], ["flow-uniform", "tangent"]), strict=True):
        for m in methods:
            ax.plot(STEPS, STEPS, **style(m).kwargs())
    fig.legend(*axes[1].get_legend_handles_labels())
    problems = figure_problems(fig)
    assert any("figure legend lacks" in p and "karras" in p for p in problems), problems


def test_a_label_in_two_colours_across_panels_is_caught() -> None:
    fig, axes = _panels(2)
    for ax, colour in zip(axes, ("C0", "C1"), strict=True):
        ax.plot(STEPS, STEPS, color=colour, marker="o", label="karras")
        ax.plot(STEPS, STEPS[::-1], color="C2", marker="s", label="tangent")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels)
    problems = figure_problems(fig)
    assert any("'karras' has 2 different looks" in p for p in problems), problems


def test_a_legend_entry_in_the_wrong_colour_is_caught() -> None:
    fig, (ax,) = _panels(1)
    ax.plot(STEPS, STEPS, color="C0", marker="o", label="karras")
    ax.plot(STEPS, STEPS[::-1], color="C1", marker="o", label="tangent")
    wrong = [Line2D([], [], color="C1", marker="o"), Line2D([], [], color="C0", marker="o")]
    ax.legend(wrong, ["karras", "tangent"])
    problems = figure_problems(fig)
    assert any("are no plotted series" in p for p in problems), problems


def test_overlapping_tick_labels_are_caught() -> None:
    fig, (ax,) = _panels(1)
    ax.plot([0.3, 0.8], [1, 2])
    ax.set_xscale("log")
    ticks = np.linspace(0.3, 0.8, 12)
    ax.set_xticks(ticks, [f"{t:.6f}" for t in ticks])
    problems = figure_problems(fig)
    assert any("x tick labels" in p and "overlap" in p for p in problems), problems


def test_rotated_tick_labels_that_do_not_touch_pass() -> None:
    fig, (ax,) = _panels(1)
    ax.plot(range(8), range(8))
    ax.set_xticks(range(8), [f"a long label number {i}" for i in range(8)], rotation=60, ha="right")
    assert figure_problems(fig) == []


def test_missing_title_and_axis_labels_are_caught() -> None:
    fig = new_figure((4, 3))
    fig.add_subplot().plot([1, 2], [1, 2])
    problems = figure_problems(fig)
    assert any("no title" in p for p in problems)
    assert any("no x label" in p for p in problems)
    assert any("no y label" in p for p in problems)


def test_tiny_fonts_are_caught() -> None:
    fig, (ax,) = _panels(1)
    ax.plot(STEPS, STEPS, label="a")
    ax.plot(STEPS, STEPS[::-1], label="b")
    ax.legend(fontsize=4)
    assert any("smaller than" in p for p in figure_problems(fig))


def test_captions_must_be_sentences_for_every_figure() -> None:
    figs = {"a": None, "b": None, "c": None, "d": None}
    captions = {"a": "kl_vs_steps", "b": "Too short.", "c": "This caption has no full stop at all"}
    captions["x"] = "A caption for a figure that does not exist at all."
    problems = caption_problems(figs, captions)
    assert any("'a'" in p and "capital" in p for p in problems)
    assert any("'b'" in p and "words" in p for p in problems)
    assert any("'c'" in p and "'.'" in p for p in problems)
    assert any("'d' has no caption" in p for p in problems)
    assert any("'x' has no figure" in p for p in problems)
    ok = {"a": "Exact KL against N for every grid on the digits spectrum."}
    assert caption_problems({"a": None}, ok) == []


def test_figures_drawn_the_project_s_way_pass() -> None:
    fig, axes = _panels(2)
    look = styles(["kl-optimal", "karras", "ays", "flow-uniform"])
    for ax, methods in zip(
        axes, (["kl-optimal", "karras", "ays"], ["kl-optimal", "flow-uniform"]), strict=True
    ):
        for m in methods:
            ax.loglog(STEPS, np.array(STEPS, dtype=float) ** -2, **look[m].kwargs())
    found: dict[str, object] = {}
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            found.setdefault(lab, h)
    fig.legend(list(found.values()), list(found), loc="outside right center")
    tidy(fig)
    assert figure_problems(fig) == []
    table = {"vp-constant": {100: 10, 10_000: 100}, "ve-dilated": {100: 12, 10_000: 12}}
    out = Outcome(
        True,
        "",
        figures={"steps": plot_steps_needed(table, "Gaussian mixture p = 0.8, d = 100..10^4")},
        captions={"steps": "Steps needed against d for two schedules of the mixture."},
    )
    assert outcome_problems(out) == []


def test_tidy_labels_a_short_log_axis_without_minor_labels() -> None:
    fig = line_plot(
        {"a": ([1, 2], [0.3, 0.8]), "b": ([1, 2], [0.35, 0.7])},
        title="t",
        xlabel="x",
        ylabel="y",
        xscale="linear",
    )
    ax = fig.axes[0]
    fig.canvas.draw()
    lo, hi = ax.get_ylim()
    shown = [
        t.get_text()
        for t, loc in zip(ax.get_yticklabels(), ax.get_yticks(), strict=True)
        if lo <= loc <= hi and t.get_text()
    ]
    assert len(shown) >= 2
    assert all(not t.get_text() for t in ax.yaxis.get_minorticklabels())
    assert figure_problems(fig) == []


def test_every_method_has_one_look_and_unknown_names_a_fixed_one() -> None:
    assert style("edm-rho7") == style("karras") == STYLES["karras"]
    assert style("KL-Optimal ") == STYLES["kl-optimal"]
    assert label("logsnr-uniform") == STYLES["loglinear"].label
    assert style("some new method") == style("some new method")  # no salted hash
    assert style("some new method").color in PALETTE.values()
    names = ["kl-optimal", "N = 4", "N = 10", "N = 28", "N = 50", "other"]
    looks = styles(names)
    assert looks["kl-optimal"] == STYLES["kl-optimal"]
    assert len({(s.color, s.marker, s.linestyle) for s in looks.values()}) == len(names)
    assert len({s.color for s in looks.values()}) == len(names)  # distinct colours while any left
    registered = {(s.color, s.marker, s.linestyle) for s in STYLES.values()}
    assert len(registered) == len(STYLES)  # no two registered names look alike
