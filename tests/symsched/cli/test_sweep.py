"""``symsched sweep`` (spectra x N x methods x samplers): the JSON is byte-identical
in-process and on a real Dask LocalCluster; every record's KL equals an independent evaluation (the
40-digit mpmath path for DDIM); kl-optimal has the smallest DDIM KL at every (spectrum, N) and
"best" says so; bad input is exit 2 naming the flag; -o refuses to overwrite without --force and
writes CSV."""

from __future__ import annotations

import contextlib
import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest

import symsched
from symsched.cli import main
from symsched.cli._sweep import CSV_COLUMNS, DEFAULT_METHODS
from symsched.datasets import dataset_spectrum
from symsched.parallel import DaskExecutor
from symsched_verify import tolerances as tol

STEPS = (4, 8)
ARGV = [
    "sweep",
    "--spectra",
    "digits",
    "--steps",
    ",".join(map(str, STEPS)),
    "--sampler",
    "ddim,heun",
    "--json",
    "--no-progress",
]


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def in_process() -> str:
    code, out, err = _run(ARGV)
    assert code == 0, err
    return out


@pytest.fixture(scope="module")
def doc(in_process: str) -> dict:
    return json.loads(in_process)


@pytest.mark.integration  # starts a local Dask cluster (~20 s)
def test_local_cluster_json_is_byte_identical_to_in_process(in_process: str) -> None:
    pytest.importorskip(
        "distributed", reason="dask[distributed] is the distributed engine under test"
    )
    cluster = DaskExecutor(workers=2)
    try:
        code, out, err = _run([*ARGV, "--scheduler", cluster.client.scheduler.address])
    finally:
        cluster.close()
    assert code == 0, err
    assert out == in_process
    assert "executor" not in json.loads(out) and "dask" not in out.lower()


def test_records_cover_every_combination_in_input_order(doc: dict) -> None:
    got = [(r["spectrum"], r["steps"], r["sampler"], r["method"]) for r in doc["records"]]
    assert got == [
        ("digits", n, s, m) for n in STEPS for s in ("ddim", "heun") for m in DEFAULT_METHODS
    ]
    for r in doc["records"]:
        assert (
            len(r["sigmas"]) == r["steps"] + 1
            and r["sigmas"][0] == 80.0
            and r["sigmas"][-1] == 0.002
        )
        assert all(a > b for a, b in zip(r["sigmas"], r["sigmas"][1:], strict=False))
        assert r["dimension"] == 64 and r["start"] == "exact" and r["knobs"] == {}


def test_each_record_equals_an_independent_evaluation(doc: dict) -> None:
    lam = dataset_spectrum("digits")
    for r in doc["records"]:
        if (
            r["sampler"] == "ddim"
        ):  # the 40-digit reference path (rational gains multiplied in mpmath)
            ref = symsched.kl(lam, r["sigmas"], backend="mpmath")
            assert r["kl_source_output"] == pytest.approx(
                ref.kl_source_output, rel=tol.SWEEP_KL_MPMATH_RTOL
            )
            assert r["kl_output_source"] == pytest.approx(
                ref.kl_output_source, rel=tol.SWEEP_KL_MPMATH_RTOL
            )
        else:  # no mpmath path for heun: the sampler must have reached symsched.kl unchanged
            ref = symsched.kl(lam, r["sigmas"], sampler=r["sampler"])
            assert (r["kl_source_output"], r["kl_output_source"]) == (
                ref.kl_source_output,
                ref.kl_output_source,
            )
    # the grids are the methods' own (tangent gets gamma* of the spectrum)
    tangent = next(r for r in doc["records"] if r["method"] == "tangent")
    assert tangent["params"]["gamma_star"] == pytest.approx(symsched.gamma_star(lam), rel=1e-15)
    assert (
        tangent["sigmas"]
        == symsched.build(
            "tangent", tangent["steps"], eigenvalues=lam, sigma_min=0.002, sigma_max=80.0
        ).sigmas.tolist()
    )


def test_kl_optimal_has_the_smallest_ddim_kl_and_best_reports_it(doc: dict) -> None:
    for n in STEPS:
        ddim = {
            r["method"]: r["kl_source_output"]
            for r in doc["records"]
            if r["steps"] == n and r["sampler"] == "ddim"
        }
        others = min(v for m, v in ddim.items() if m != "kl-optimal")
        assert ddim["kl-optimal"] < others, (n, ddim)
        assert doc["best"]["digits"][str(n)]["ddim"]["method"] == "kl-optimal"
        assert doc["best"]["digits"][str(n)]["ddim"]["kl_source_output"] == ddim["kl-optimal"]
        heun = {
            r["method"]: r["kl_source_output"]
            for r in doc["records"]
            if r["steps"] == n and r["sampler"] == "heun"
        }
        assert doc["best"]["digits"][str(n)]["heun"]["method"] == min(heun, key=heun.__getitem__)


def test_output_refuses_to_overwrite_and_writes_csv(tmp_path: Path) -> None:
    lam = np.array([0.01, 0.1, 0.5, 1.0, 2.0])
    np.save(tmp_path / "lam.npy", lam)
    target = tmp_path / "sweep.csv"
    argv = [
        "sweep",
        "--spectra",
        str(tmp_path / "lam.npy"),
        "--steps",
        "3",
        "--methods",
        "tangent,karras",
        "--sampler",
        "ancestral",
        "--eta",
        "0.5",
        "--start",
        "prior",
        "-o",
        str(target),
        "--no-progress",
    ]
    code, out, err = _run(argv)
    assert code == 0, err
    assert "*" in out and "karras" in out  # the table, with the best method marked
    rows = list(csv.DictReader(target.open()))
    assert tuple(csv.reader(target.open()).__next__()) == CSV_COLUMNS
    assert [r["method"] for r in rows] == ["tangent", "karras"]
    for r in rows:
        sigmas = [float(v) for v in r["sigmas"].split()]
        ref = symsched.kl(lam, sigmas, sampler="ancestral", eta=0.5, start="prior")
        assert (
            float(r["kl_source_output"]) == ref.kl_source_output
            and r["knobs"] == "eta=0.5"
            and r["start"] == "prior"
        )
    before = target.read_text()
    code, _, err = _run(argv)
    assert code == 2 and "--force" in err and len(err.strip().splitlines()) == 1
    assert target.read_text() == before
    code, _, err = _run([*argv, "--force"])
    assert code == 0, err


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--spectra", "nosuch", "--steps", "4"], "--spectra"),
        (["--spectra", "digits", "--steps", "4,0"], "--steps"),
        (["--spectra", "digits", "--steps", "2.5"], "--steps"),
        (["--spectra", "digits", "--steps", ""], "--steps"),
        (["--spectra", "digits", "--steps", "4", "--methods", "karras,stein"], "--methods"),
        (["--spectra", "digits", "--steps", "4", "--sampler", "euler"], "--sampler"),
        (
            ["--spectra", "digits", "--steps", "4", "--sampler", "ancestral", "--eta", "1.5"],
            "--eta",
        ),
        (["--spectra", "digits", "--steps", "4", "--eta", "0.5"], "--eta"),
        (["--spectra", "digits", "--steps", "4", "--sigma-min", "80"], "--sigma-min"),
        (
            ["--spectra", "digits", "--steps", "4", "--methods", "karras", "--sigma-max", "inf"],
            "--sigma-max",
        ),
        (
            ["--spectra", "digits", "--steps", "4", "--methods", "loglinear", "--sigma-min", "0"],
            "--methods loglinear",
        ),
        (["--spectra", "digits", "--steps", "4", "--workers", "0"], "--workers"),
    ],
)
def test_bad_input_is_exit_2_naming_the_flag(extra: list[str], needle: str) -> None:
    code, out, err = _run(["sweep", *extra, "--no-progress"])
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1 and not out
    assert "Traceback" not in err


def test_exact_spectrum_searches_the_full_spectrum_and_both_report_their_compression(
    tmp_path: Path,
) -> None:
    """On a spectrum large enough to compress, the optimising methods report the compression
    they searched on (Gauss nodes by default, the exact grouping with --exact-spectrum, which the
    reproducing command keeps), and both runs give the same criteria to the stated tolerance."""
    rng = np.random.default_rng(7)
    np.save(tmp_path / "big.npy", np.exp(rng.uniform(np.log(1e-4), np.log(10.0), 3000)))
    argv = ["sweep", "--spectra", str(tmp_path / "big.npy"), "--steps", "8", "--methods",
            "kl-optimal,variational", "--json", "--no-progress"]  # fmt: skip
    runs = {}
    for extra in ([], ["--exact-spectrum"]):
        code, out, err = _run(argv + extra)
        assert code == 0, err
        runs[bool(extra)] = json.loads(out)
    assert "--exact-spectrum" in runs[True]["command"]
    assert "--exact-spectrum" not in runs[False]["command"]
    for compressed, exact in zip(runs[False]["records"], runs[True]["records"], strict=True):
        assert compressed["method"] == exact["method"]
        assert compressed["params"]["spectrum_compression"]["method"].startswith("Gauss")
        assert compressed["params"]["compression_check"]["within_rtol"]
        assert exact["params"]["spectrum_compression"]["method"] == "exact grouping"
        assert compressed["kl_source_output"] == pytest.approx(exact["kl_source_output"], rel=1e-6)
