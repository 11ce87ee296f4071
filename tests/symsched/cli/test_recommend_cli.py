"""``symsched recommend`` (docs/cli.md#recommend, docs/theory/coupling.md#recommendations)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from cli_helpers import one_line, run

from symsched.gaussian.coupling import criteria
from symsched.recommend import INPUT_DIMENSIONS, recommend, table_keys
from symsched.reference import MODELS, proxy_spectrum


def test_json_answers_the_question_from_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "recommend", "--model", "sdxl", "--sampler", "dpmpp-2m", "--steps", "10", "--json"
    )
    assert code == 0
    doc = json.loads(out)
    assert {"model", "sampler", "steps", "recommended", "alternatives", "exports", "proxy"} <= set(
        doc
    )
    assert doc["source"] == "precomputed" and doc["criterion"] == "coupling"
    best = doc["recommended"]
    assert best["sigmas"][-1] == 0.0 and len(best["sigmas"]) == 11  # 10 steps, the last to 0
    assert all(
        a["criteria"]["coupling"] >= best["criteria"]["coupling"] for a in doc["alternatives"]
    )
    methods = {a["method"] for a in doc["alternatives"]}
    assert {"sampler-optimal", "loglinear", "karras", "ays", "kl-optimal-ddim"} <= methods
    # its criteria are those of its grid, on the stated proxy
    sdxl = next(m for m in MODELS if m.name == "sdxl")
    again = criteria(proxy_spectrum(sdxl), best["sigmas"], sampler="dpmpp-2m")
    assert again.coupling == pytest.approx(best["criteria"]["coupling"], rel=1e-12)
    assert doc["exports"]["comfyui"]["value"] == pytest.approx(best["sigmas"])
    assert doc["nfe"] == 10


def test_text_lists_every_alternative_and_the_proxy(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "recommend", "--model", "edm", "--sampler", "heun", "--steps", "5")
    assert code == 0
    assert "recommended sampler-optimal" in out and "NFE 9" in out
    assert "k-diffusion: [80.0" in out and "scored on: photographs" in out


def test_every_table_entry_is_no_worse_than_its_alternatives() -> None:
    for model, sampler, n in table_keys():
        rec = recommend(model, sampler, n)
        best = rec.recommended.criteria.value(rec.criterion)
        assert rec.source == "precomputed"
        assert all(c.criteria.value(rec.criterion) >= best for c in rec.alternatives)


def test_a_step_count_outside_the_table_is_computed(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "recommend", "--model", "ddpm", "--sampler", "ddim", "--steps", "3", "--json"
    )
    assert code == 0 and json.loads(out)["source"] == "computed"
    assert "computed on the spot" in err


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["--model", "flow", "--sampler", "heun", "--steps", "5"], ("--sampler", "pure noise")),
        (["--model", "edm", "--sampler", "ddim", "--steps", "0"], ("--steps",)),
    ],
)
def test_bad_requests_exit_2_with_the_fix(
    capsys: pytest.CaptureFixture[str], argv: list[str], needles: tuple[str, ...]
) -> None:
    code, _, err = run(capsys, "recommend", *argv)
    assert code == 2
    one_line(err, *needles)


def test_a_spectrum_of_the_wrong_dimension_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: pytest.TempPathFactory
) -> None:
    f = tmp_path / "lam.npy"  # type: ignore[operator]
    np.save(f, np.linspace(0.1, 1.0, 100))
    code, _, err = run(
        capsys,
        "recommend",
        "--model",
        "edm",
        "--sampler",
        "ddim",
        "--steps",
        "5",
        "--spectrum-file",
        str(f),
    )
    assert code == 2
    one_line(err, "--spectrum-file", str(INPUT_DIMENSIONS["edm"][0]))
