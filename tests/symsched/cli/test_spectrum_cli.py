"""``symsched spectrum`` (docs/cli.md#spectrum): good paths, the file the other commands take, and
one-line refusals naming the flag."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import one_line, run

from symsched.gaussian import exact
from symsched.images import PIXEL_STEP
from symsched.spectrum import fourier_spectrum, photographs_spectrum


@pytest.fixture
def images(tmp_path: Path) -> Path:
    from PIL import Image

    rng = np.random.default_rng(0)
    d = tmp_path / "imgs"
    d.mkdir()
    for i in range(6):
        arr = rng.integers(0, 256, size=(20 + i, 24, 3), dtype=np.uint8)
        Image.fromarray(arr).save(d / f"im{i}.png" if i % 2 else d / f"im{i}.jpg")
    (d / "notes.txt").write_text("not an image")
    return d


def test_photographs_to_a_spectrum_file_for_the_other_commands(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "lam.npy"
    argv = ["spectrum", "--photographs", "--resolution", "8", "--patches", "64", "--radial"]
    code, stdout, err = run(capsys, *argv, "--rescale-mean", "0.25", "--out", str(out), "--json")
    assert code == 0, err
    s = json.loads(stdout)
    want = photographs_spectrum(8, "fourier", radial=True, count=64).eigenvalues
    want = want * (0.25 / want.mean())
    lam = np.load(out)
    assert lam.dtype == np.float64 and lam.shape == (192,)
    assert np.array_equal(lam, want)
    assert s["d"] == 192 and s["method"] == "fourier" and s["radial"] is True
    assert s["samples"] == 128 and s["resolution"] == 8 and s["sample_shape"] == [8, 8, 3]
    assert s["mean_eigenvalue"] == pytest.approx(0.25, rel=1e-14)
    assert (s["min_eigenvalue"], s["max_eigenvalue"]) == (lam.min(), lam.max())
    assert s["distinct"] == np.unique(lam).size < 192
    # the file is a --spectrum-file: the exact KL of the kl command is the KL of these values
    code, stdout, err = run(capsys, "kl", "--spectrum-file", str(out), "--sigmas", "80,1,0.01")
    assert code == 0, err
    kl = exact.kl(want, [80.0, 1.0, 0.01]).kl_source_output
    assert f"KL(source||output) = {kl:.12g}" in stdout


def test_npy_images_and_rows(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 6, 6, 2))
    np.save(tmp_path / "x.npy", x)
    code, stdout, err = run(
        capsys, "spectrum", "--npy", str(tmp_path / "x.npy"), "--method", "fourier", "--json"
    )
    assert code == 0, err
    s = json.loads(stdout)
    assert s["d"] == 72 and s["method"] == "fourier" and s["quantisation_step"] == 0.0
    assert s["max_eigenvalue"] == fourier_spectrum(x).max()
    np.save(tmp_path / "rows.npy", x.reshape(40, -1)[:, :10])  # rows: always direct
    code, stdout, err = run(capsys, "spectrum", "--npy", str(tmp_path / "rows.npy"), "--json")
    assert code == 0, err
    s = json.loads(stdout)
    cov = np.cov(x.reshape(40, -1)[:, :10], rowvar=False)
    assert s["method"] == "direct" and s["resolution"] is None
    assert s["max_eigenvalue"] == pytest.approx(np.linalg.eigvalsh(cov).max(), rel=1e-12)
    # crops of larger images
    code, stdout, err = run(
        capsys, "spectrum", "--npy", str(tmp_path / "x.npy"), "--resolution", "4",
        "--patches", "3", "--json",
    )  # fmt: skip
    assert code == 0, err
    s = json.loads(stdout)
    assert s["samples"] == 120 and s["sample_shape"] == [4, 4, 2]


def test_image_folder_resized_and_cut(capsys: pytest.CaptureFixture[str], images: Path) -> None:
    code, stdout, err = run(capsys, "spectrum", "--images", str(images), "--resolution", "8")
    assert code == 0, err
    assert "d = 192 eigenvalues" in stdout and "6 samples of shape (8, 8, 3)" in stdout
    assert "method = fourier" in stdout  # 6 samples of 192 values: too few for direct
    code, stdout, err = run(
        capsys, "spectrum", "--images", str(images), "--resolution", "8", "--patches", "5",
        "--json",
    )  # fmt: skip
    assert code == 0, err
    s = json.loads(stdout)
    assert s["samples"] == 30 and s["quantisation_step"] == PIXEL_STEP


def test_out_is_never_overwritten_without_force(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "lam.npy"
    out.write_bytes(b"previous")
    argv = ["spectrum", "--photographs", "--resolution", "4", "--patches", "20"]
    code, _, err = run(capsys, *argv, "--out", str(out))
    assert code == 2
    one_line(err, "--out", "file exists; pass --force")
    assert out.read_bytes() == b"previous"
    code, _, err = run(capsys, *argv, "--out", str(out), "--force")
    assert code == 0, err
    assert np.load(out).shape == (48,)


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["--npy", "missing.npy"], ["--npy", "does not exist"]),
        (["--npy", "{vec}"], ["--npy", "shape (5,)", "give rows (n, d) or images"]),
        (["--npy", "{pickle}"], ["--npy", "cannot be read"]),
        (["--npy", "{imgs}", "--resolution", "5"], ["--resolution 5", "--patches K"]),
        (["--npy", "{imgs}", "--resolution", "7", "--patches", "2"], ["--resolution 7", "R <= 6"]),
        (["--npy", "{rows}", "--resolution", "2"], ["--resolution", "no image shape"]),
        (["--npy", "{imgs}", "--method", "direct"], ["--method direct", "singular"]),
        (["--photographs", "--resolution", "0"], ["--resolution", "positive integer"]),
        (["--photographs", "--resolution", "-3"], ["--resolution", "positive integer"]),
        (["--photographs", "--resolution", "428"], ["--resolution 428", "R <= 427"]),
        (["--photographs"], ["--photographs needs --resolution"]),
        (
            ["--photographs", "--resolution", "4", "--quantisation-step", "0.1"],
            ["--quantisation-step", "leave it out"],
        ),
        (
            ["--photographs", "--resolution", "64", "--method", "direct"],
            ["--method direct", "d = 12288", "--method fourier"],
        ),
        (["--photographs", "--resolution", "4", "--radial", "--method", "direct"], ["--radial"]),
        (["--photographs", "--resolution", "4", "--rescale-mean", "-1"], ["--rescale-mean"]),
        (["--photographs", "--resolution", "4", "--out", "lam.txt"], ["--out", "end", ".npy"]),
        (["--images", "{empty}", "--resolution", "8"], ["--images", "holds no image"]),
        (["--images", "missing", "--resolution", "8"], ["--images", "not a directory"]),
        (["--images", "{images}", "--resolution", "5000"], ["--resolution 5000", "4096"]),
        (
            ["--images", "{images}", "--resolution", "30", "--patches", "2"],
            ["--resolution", "smaller than 30 x 30"],
        ),
        (["--images", "{images}"], ["--images needs --resolution"]),
        (["--npy", "{zeros}"], ["--npy", "--quantisation-step"]),
        (["--npy", "{rows}", "--quantisation-step", "1e200"], ["--quantisation-step 1e200"]),
        (["--npy", "{rows}", "--quantisation-step", "nan"], ["--quantisation-step"]),
        (["--npy", "{rows}", "--rescale-mean", "1e308"], ["--rescale-mean 1e308", "1e300]"]),
        (["--npy", "{huge}"], ["--npy", "rescale them"]),
    ],
)
def test_bad_input_is_one_line_naming_the_flag(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    images: Path,
    argv: list[str],
    needles: list[str],
) -> None:
    np.save(tmp_path / "vec.npy", np.arange(5.0))
    np.save(tmp_path / "pickle.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.save(tmp_path / "imgs.npy", np.random.default_rng(2).normal(size=(3, 6, 6)))
    np.save(tmp_path / "rows.npy", np.random.default_rng(2).normal(size=(30, 4)))
    np.save(tmp_path / "zeros.npy", np.zeros((30, 4)))
    np.save(tmp_path / "huge.npy", np.random.default_rng(3).normal(size=(30, 4)) * 1e160)
    (tmp_path / "empty").mkdir()
    stems = ("vec", "pickle", "imgs", "rows", "zeros", "huge")
    names = {k: str(tmp_path / f"{k}.npy") for k in stems}
    names |= {"empty": str(tmp_path / "empty"), "images": str(images)}
    filled = [a.format(**names) for a in argv]
    filled = [
        str(tmp_path / a) if a in ("missing.npy", "lam.txt", "missing") else a for a in filled
    ]
    code, stdout, err = run(capsys, "spectrum", *filled)
    assert code == 2, (stdout, err)
    one_line(err, "symsched spectrum: error:", *needles)


def test_oversized_request_is_refused_before_loading(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    big = np.lib.format.open_memmap(tmp_path / "big.npy", mode="w+", shape=(4, 512, 512, 3))
    del big  # a 25 MB file; 100 crops of each image need far more than a 1 MB budget
    code, _, err = run(
        capsys, "--max-memory", "1M", "spectrum", "--npy", str(tmp_path / "big.npy"),
        "--resolution", "256", "--patches", "100",
    )  # fmt: skip
    assert code == 2
    one_line(err, "--npy", "over the memory budget", "--max-memory")
