"""``symsched spectrum``: the covariance spectrum of your data, as a ``--spectrum-file``.

One source: ``--npy FILE`` (rows ``(n, d)`` or images ``(n, H, W[, C])``), ``--images DIR`` (PNG and
JPEG files, resized to ``--resolution R`` or cut into ``--patches K`` random crops) or
``--photographs`` (random patches of scikit-learn's two sample photographs). The method is
``--method auto|direct|fourier`` (:mod:`symsched.spectrum`); ``--out FILE.npy`` writes the
eigenvalues (descending) atomically, the file every other command takes as ``--spectrum-file``
(docs/cli.md#spectrum).
"""

from __future__ import annotations

import argparse
import io
import math
import os
from pathlib import Path
from typing import Any, cast

import numpy as np

from symsched._budget import check_memory
from symsched._io import write_bytes
from symsched._options import cli_int
from symsched._typing import FloatArray
from symsched._version import __version__
from symsched.cli._common import CliError, check_output, dumps_json, write_output
from symsched.images import (
    IMAGE_SUFFIXES,
    MAX_RESOLUTION,
    PATCH_SEED,
    PATCHES_PER_PHOTOGRAPH,
    PHOTOGRAPH_SHAPE,
    PIXEL_STEP,
    image_files,
    load_image_folder,
    load_npy,
    npy_shape,
    random_patches,
)
from symsched.spectrum import (
    DIRECT_MAX_DIMENSION,
    MAX_QUANTISATION_STEP,
    METHODS,
    Method,
    SpectrumEstimate,
    covariance_spectrum,
    distinct_eigenvalues,
    memory_estimate,
    photographs_spectrum,
    rescale_mean,
    resolve_method,
)

__all__ = ["register"]


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add the ``spectrum`` command."""
    p = sub.add_parser(
        "spectrum",
        help="covariance spectrum of your data (a --spectrum-file for the other commands)",
        description="Estimate the covariance eigenvalues of samples: the sample covariance "
        "(direct) or the stationary Fourier estimate of images (fourier). --out FILE.npy writes "
        "them for --spectrum-file.",
        epilog="example: symsched spectrum --images ./train --resolution 64 --out lam.npy",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--npy", metavar="FILE", help="samples: rows (n, d) or images (n, H, W[, C])")
    src.add_argument("--images", metavar="DIR", help="a folder of PNG/JPEG images")
    src.add_argument(
        "--photographs",
        action="store_true",
        help="random patches of scikit-learn's two sample photographs (427 x 640, RGB)",
    )
    p.add_argument(
        "--resolution",
        type=cli_int,
        metavar="R",
        help="side of the R x R samples (required with --images and --photographs; with --npy "
        "images, crops of that side with --patches)",
    )
    p.add_argument(
        "--patches",
        type=cli_int,
        metavar="K",
        help="K random R x R crops of each image instead of resizing (--images, --npy); "
        f"per photograph with --photographs (default {PATCHES_PER_PHOTOGRAPH})",
    )
    p.add_argument("--seed", type=cli_int, default=PATCH_SEED, help="seed of the crop positions")
    p.add_argument("--method", default="auto", choices=METHODS, help="the estimator")
    p.add_argument(
        "--radial",
        action="store_true",
        help="fourier: average the power over rings of equal |k| (many exactly equal eigenvalues)",
    )
    p.add_argument(
        "--quantisation-step",
        metavar="D",
        help="dequantise: add D^2/12 to every eigenvalue (default 2/255 for 8-bit --images, "
        "0 for --npy)",
    )
    p.add_argument(
        "--rescale-mean",
        metavar="M",
        help="rescale the eigenvalues to mean M (e.g. 1 for unit-variance latents)",
    )
    p.add_argument("--out", metavar="FILE.npy", help="write the eigenvalues (descending) to FILE")
    p.add_argument("--force", action="store_true", help="overwrite --out FILE if it exists")
    p.add_argument("--json", action="store_true", help="print a JSON summary")
    p.set_defaults(func=run)


def _positive_float(text: str | None, flag: str, *, allow_zero: bool = False) -> float | None:
    if text is None:
        return None
    try:
        v = float(text)
    except ValueError:
        raise CliError(f"{flag} must be a number, got {text!r}") from None
    ok = math.isfinite(v) and (v > 0 or (allow_zero and v == 0))
    if not ok:
        need = ">= 0" if allow_zero else "> 0"
        raise CliError(f"{flag} must be a finite number {need}, got {text!r}")
    return v


def _check_counts(args: argparse.Namespace) -> None:
    if args.resolution is not None and args.resolution < 1:
        raise CliError(f"--resolution must be a positive integer, got {args.resolution}")
    if args.patches is not None and args.patches < 1:
        raise CliError(f"--patches must be a positive integer, got {args.patches}")
    if args.seed < 0:
        raise CliError(f"--seed must be an integer >= 0, got {args.seed}")
    _step(args, 0.0)  # a bad --quantisation-step is refused before any work
    if args.radial and args.method == "direct":
        raise CliError("--radial is an option of --method fourier (or auto), not of direct")
    if args.out is not None:
        if Path(args.out).suffix != ".npy":
            raise CliError(f"--out {args.out}: give a file name ending in .npy")
        check_output(args.out, force=args.force, flag="--out")


def _guard(samples: int, shape: tuple[int, ...], args: argparse.Namespace, flag: str) -> str:
    """Resolve the method for ``samples`` of ``shape`` and refuse an oversized request."""
    try:
        method = resolve_method(args.method, samples, shape, args.radial)
    except ValueError as exc:
        raise CliError(f"--method {args.method}: {exc}") from None
    d = math.prod(shape)
    if method == "direct" and d > DIRECT_MAX_DIMENSION:
        fix = "use --method fourier" if len(shape) in (2, 3) else "give fewer dimensions"
        raise CliError(
            f"--method direct: d = {d} is above {DIRECT_MAX_DIMENSION} (a d x d covariance and "
            f"a d^3 eigensolver); {fix}"
        )
    if method == "direct" and samples <= d:
        fix = "use --method fourier" if len(shape) in (2, 3) else "give more samples"
        raise CliError(
            f"--method direct: {samples} samples of dimension {d} give a singular covariance "
            f"(it needs more samples than dimensions); {fix}"
        )
    check_memory(
        memory_estimate(samples, shape, method),
        flag=flag,
        what=f"the {method} spectrum of {samples} samples of shape {shape}",
        fix=f"lower {flag}" if flag != "--npy" else "give fewer or smaller samples",
    )
    return method


def _step(args: argparse.Namespace, default: float) -> float:
    v = _positive_float(args.quantisation_step, "--quantisation-step", allow_zero=True)
    if v is not None and v > MAX_QUANTISATION_STEP:
        raise CliError(
            f"--quantisation-step {args.quantisation_step}: at most {MAX_QUANTISATION_STEP:g} "
            "(its variance D^2/12 must stay in the input range)"
        )
    return default if v is None else v


def _from_npy(args: argparse.Namespace) -> tuple[SpectrumEstimate, int | None]:
    path = args.npy
    if not os.path.isfile(path):
        raise CliError(f"--npy {path}: does not exist or is not a file")
    try:
        shape, _ = npy_shape(path)
    except (OSError, ValueError) as exc:
        raise CliError(f"--npy {path}: cannot be read as a .npy array ({exc})") from None
    if not 2 <= len(shape) <= 4:
        raise CliError(
            f"--npy {path}: holds an array of shape {shape}; give rows (n, d) or images "
            "(n, H, W) or (n, H, W, C)"
        )
    n, sample = shape[0], shape[1:]
    r = args.resolution
    if len(sample) == 1 and (r is not None or args.patches is not None):
        flag = "--resolution" if r is not None else "--patches"
        raise CliError(f"{flag}: rows (n, d) have no image shape; give images (n, H, W[, C])")
    if args.patches is not None and r is None:
        raise CliError("--patches needs --resolution R (the side of the crops)")
    if r is not None and args.patches is None and tuple(sample[:2]) != (r, r):
        raise CliError(
            f"--resolution {r}: the images are {sample[0]} x {sample[1]}; pass --patches K to "
            f"cut {r} x {r} crops, or leave --resolution out"
        )
    if r is not None and r > min(sample[:2]):
        raise CliError(
            f"--resolution {r}: larger than the images ({sample[0]} x {sample[1]}); give R <= "
            f"{min(sample[:2])}"
        )
    count = n if args.patches is None else n * args.patches
    out_shape = sample if r is None else (r, r, *sample[2:])
    _guard(count, tuple(out_shape), args, "--npy")
    try:
        x = load_npy(path)
    except ValueError as exc:
        raise CliError(f"--npy {path}: {exc}") from None
    if args.patches is not None and r is not None:
        x = random_patches(list(x), r, args.patches, seed=args.seed)
    return _estimate(x, args, _step(args, 0.0), "--npy"), r


def _from_images(args: argparse.Namespace) -> tuple[SpectrumEstimate, int | None]:
    d = args.images
    r = args.resolution
    if r is None:
        raise CliError("--images needs --resolution R (the side of the R x R samples)")
    if r > MAX_RESOLUTION:
        raise CliError(f"--resolution {r}: at most {MAX_RESOLUTION}")
    if not os.path.isdir(d):
        raise CliError(f"--images {d}: does not exist or is not a directory")
    files = image_files(d)
    if not files:
        raise CliError(
            f"--images {d}: holds no image ({', '.join(IMAGE_SUFFIXES)} files); give a folder "
            "of PNG or JPEG images"
        )
    count = len(files) * (args.patches or 1)
    _guard(count, (r, r, 3), args, "--resolution")
    try:
        x = load_image_folder(d, r, patches=args.patches, seed=args.seed)
    except ValueError as exc:
        flag = "--resolution" if "smaller than" in str(exc) else "--images"
        raise CliError(f"{flag}: {exc}") from None
    return _estimate(x, args, _step(args, PIXEL_STEP), "--images"), r


def _from_photographs(args: argparse.Namespace) -> tuple[SpectrumEstimate, int | None]:
    r = args.resolution
    h, w, _ = PHOTOGRAPH_SHAPE
    if r is None:
        raise CliError("--photographs needs --resolution R (the side of the R x R x 3 patches)")
    if r > h:
        raise CliError(f"--resolution {r}: the photographs are {h} x {w}; give R <= {h}")
    if args.quantisation_step is not None:
        raise CliError(
            "--quantisation-step: the photographs are 8-bit, dequantised by 2/255; leave it out"
        )
    count = args.patches or PATCHES_PER_PHOTOGRAPH
    method = _guard(2 * count, (r, r, 3), args, "--patches")
    chosen = cast(Method, method)
    return photographs_spectrum(r, chosen, radial=args.radial, count=count, seed=args.seed), r


def _estimate(x: FloatArray, args: argparse.Namespace, step: float, flag: str) -> SpectrumEstimate:
    try:
        return covariance_spectrum(x, args.method, radial=args.radial, quantisation_step=step)
    except ValueError as exc:
        if "quantisation_step" in str(exc):  # a direction (or frequency) of zero variance
            raise CliError(
                f"{flag}: the samples have a direction of zero variance, so the spectrum has a "
                "zero eigenvalue; pass --quantisation-step D to dequantise (2/255 for 8-bit "
                "values in [-1, 1])"
            ) from None
        raise CliError(f"{flag}: {exc}") from None


def run(args: argparse.Namespace) -> int:
    """Estimate the spectrum, print its summary and write ``--out`` if asked."""
    _check_counts(args)
    mean = _positive_float(args.rescale_mean, "--rescale-mean")
    if args.npy is not None:
        est, resolution = _from_npy(args)
        source = f"npy:{args.npy}"
    elif args.images is not None:
        est, resolution = _from_images(args)
        source = f"images:{args.images}"
    else:
        est, resolution = _from_photographs(args)
        source = "photographs"
    try:
        lam = est.eigenvalues if mean is None else rescale_mean(est.eigenvalues, mean)
    except ValueError as exc:
        raise CliError(f"--rescale-mean {args.rescale_mean}: {exc}") from None
    if args.out is not None:
        buf = io.BytesIO()
        np.save(buf, np.ascontiguousarray(lam, dtype=np.float64), allow_pickle=False)
        write_bytes(args.out, buf.getvalue(), force=args.force, flag="--out")
    summary: dict[str, object] = {
        "source": source,
        "method": est.method,
        "radial": est.radial,
        "samples": est.samples,
        "sample_shape": list(est.sample_shape),
        "resolution": resolution,
        "d": int(lam.size),
        "distinct": int(distinct_eigenvalues(lam)[0].size),
        "quantisation_step": est.quantisation_step,
        "rescale_mean": mean,
        "min_eigenvalue": float(lam.min()),
        "max_eigenvalue": float(lam.max()),
        "mean_eigenvalue": float(lam.mean()),
        "out": args.out,
        "version": __version__,
    }
    if args.json:
        write_output(dumps_json(summary), None)
        return 0
    lines = [
        f"d = {lam.size} eigenvalues ({summary['distinct']} distinct), method = {est.method}"
        + (" (radial)" if est.radial else "")
        + f", {est.samples} samples of shape {est.sample_shape}",
        f"min = {lam.min():.6g}, max = {lam.max():.6g}, mean = {lam.mean():.6g}",
    ]
    if args.out is not None:
        lines.append(f"written to {args.out} (use it as --spectrum-file {args.out})")
    write_output("\n".join(lines), None)
    return 0
