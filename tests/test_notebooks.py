"""Execute every notebook (jupytext percent scripts in notebooks/); each ends in asserts.

The executed notebook is then read back: math displays as LaTeX in the notation of the docs
(``sympy.init_printing(latex_printer=symsched.symbols.latex)``, ``display(Math(...))``), a cell's
result is math (figures are displayed, not returned), and no output is a stray repr such as
``<... object at 0x...>``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from docs_hooks import load_hook
from latex_helpers import ascii_names

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(p for p in NOTEBOOK_DIR.glob("[0-9][0-9]_*.py"))

# Python's default repr, <mod.Foo object at 0x...>, and IPython's, <mod.Foo at 0x...>
STRAY_REPR = re.compile(r"<[^<>\n]* at 0x[0-9A-Fa-f]+>")


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def output_problems(nb: Any) -> list[str]:
    """What is wrong with the outputs of an executed notebook (empty: nothing)."""
    from symsched_verify.mathml import MathError, render_math

    problems: list[str] = []
    latex_outputs = 0
    for index, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            where = f"cell {index}"
            kind = out.get("output_type")
            data = out.get("data", {})
            texts = [_text(out.get("text", ""))]
            texts += [_text(v) for k, v in data.items() if k.startswith("text/")]
            problems += [
                f"{where}: stray repr {m.group(0)}"
                for text in texts
                for m in STRAY_REPR.finditer(text)
            ]
            if kind == "execute_result" and "text/latex" not in data:
                plain = _text(data.get("text/plain", ""))
                problems.append(f"{where}: a result that is not math: {plain[:120]!r}")
            if "text/latex" in data:
                latex_outputs += 1
                tex = _text(data["text/latex"])
                if ascii_names(tex):
                    problems.append(f"{where}: ASCII names {ascii_names(tex)} in {tex[:160]!r}")
                try:
                    render_math(tex)
                except MathError as exc:
                    problems.append(f"{where}: {exc}")
    if latex_outputs == 0:
        problems.append("no output is LaTeX: derived expressions must display as math")
    return problems


def test_cache_key_ignores_what_sys_path_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # importing pkg_resources (k-diffusion's clip does) puts setuptools' vendored distributions on
    # sys.path mid-run: the key of the executed notebooks must not change with it, or the tests
    # execute every notebook again after `make docs` did
    hook = load_hook("notebook_pages")
    before = hook.inputs_digest(ROOT)
    dist = tmp_path / "vendored_thing-9.9.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: vendored-thing\nVersion: 9.9\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert hook.inputs_digest(ROOT) == before


def test_notebooks_are_found() -> None:
    # catches a broken glob: the foundation notebook must always be there
    assert any(p.name.startswith("01_") for p in NOTEBOOKS)


def test_output_check_flags_stray_reprs_and_ascii_math() -> None:
    nbformat = pytest.importorskip("nbformat")
    v4 = nbformat.v4
    good = v4.new_notebook(
        cells=[
            v4.new_code_cell(
                outputs=[
                    v4.new_output(
                        "execute_result",
                        data={"text/plain": "lam", "text/latex": r"$\displaystyle \lambda$"},
                        execution_count=1,
                    ),
                    v4.new_output("stream", name="stdout", text="all asserts passed\n"),
                ]
            )
        ]
    )
    assert output_problems(good) == []
    bad = v4.new_notebook(
        cells=[
            v4.new_code_cell(
                outputs=[
                    v4.new_output(
                        "execute_result",
                        data={"text/plain": "<matplotlib.legend.Legend at 0x7f>"},
                        execution_count=1,
                    ),
                    v4.new_output(
                        "display_data",
                        data={"text/plain": "x", "text/latex": r"$\displaystyle tr_{\Sigma inv}$"},
                    ),
                    v4.new_output("stream", name="stdout", text="<Foo object at 0xdeadbeef>\n"),
                ]
            )
        ]
    )
    problems = output_problems(bad)
    assert problems == [
        "cell 0: stray repr <matplotlib.legend.Legend at 0x7f>",
        "cell 0: a result that is not math: '<matplotlib.legend.Legend at 0x7f>'",
        "cell 0: ASCII names ['tr_', 'Sigma inv'] in '$\\\\displaystyle tr_{\\\\Sigma inv}$'",
        "cell 0: stray repr <Foo object at 0xdeadbeef>",
    ]


@pytest.mark.notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path: Path) -> None:
    # `make test` builds the docs first (`make docs`), which executes every notebook and caches
    # the executed copy under .cache/docs-notebooks, keyed by the notebook, the package sources and
    # the installed versions; a copy for exactly the current inputs is that execution's result and
    # is checked here instead of running the notebook a second time (a cell that raised leaves no
    # copy). Without one, the notebook is executed here.
    jupytext = pytest.importorskip("jupytext")
    nbclient = pytest.importorskip("nbclient")
    import nbformat

    hook = load_hook("notebook_pages")
    cached = hook.cached_path(path, ROOT / ".cache" / "docs-notebooks", hook.inputs_digest(ROOT))
    if cached.is_file():
        nb = nbformat.read(cached, as_version=4)
        assert [c.source for c in nb.cells] == [c.source for c in jupytext.read(path).cells]
    else:
        nb = jupytext.read(path)
        client = nbclient.NotebookClient(
            nb,
            timeout=600,
            kernel_name="python3",
            resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
        )
        client.execute()
    assert any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), "not executed"
    assert output_problems(nb) == [], path.name
