"""Benchmark: start-up of the command line, against ``python -c "import numpy"``.

Run on demand (not a test):  python benchmarks/bench_cli_startup.py [--quick]

Best-of-n wall times of fresh processes, all measured in this run:

- the baseline ``python -c "import numpy"``;
- ``symsched kl --eigenvalues 1,2 --sigmas 80,0.002 --json`` (one exact-KL step, with the
  coupling error) and ``symsched schedule karras --steps 1``;
- for information, ``import symsched.cli`` and ``import symsched.cli; build_parser()``;

and, in this process after a warm-up, the same computations through the library (both KLs and the
coupling error of the grid; the karras grid). Target: each command within 2x of the numpy import
plus its computation; the script exits 1 if one is not.

Every process runs with bytecode caching on, in a private cache (``PYTHONPYCACHEPREFIX`` in a
temporary directory, ``PYTHONDONTWRITEBYTECODE`` unset), warmed by one run first: what an installed
package does, without writing into the checkout.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from _timing import best_of

KL_ARGS = ["kl", "--eigenvalues", "1,2", "--sigmas", "80,0.002", "--json"]
KARRAS_ARGS = ["schedule", "karras", "--steps", "1"]
TARGET = 2.0


def _symsched_command() -> list[str]:
    script = Path(sys.executable).with_name("symsched")
    return [str(script)] if script.exists() else [sys.executable, "-m", "symsched.cli"]


def best_wall(cmd: Sequence[str], env: dict[str, str], repeat: int) -> float:
    """Best-of-``repeat`` wall time of ``cmd`` (after one warm-up run, which fills the cache)."""

    def run() -> None:
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)

    return best_of(run, repeat, warm_up=True)


def best_in_process(fn: Callable[[], object], repeat: int) -> float:
    return best_of(fn, repeat, warm_up=True)  # warm-up: imports and caches


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args(argv)
    repeat = 5 if args.quick else 15

    import numpy as np

    import symsched

    lam, grid = np.array([1.0, 2.0]), np.array([80.0, 0.002])

    def kl_computation() -> None:
        res = symsched.kl(lam, grid)
        symsched.coupling_error(lam, grid)
        _ = res.variance_ratios

    def karras_computation() -> None:
        symsched.build("karras", 1)

    t_kl_comp = best_in_process(kl_computation, 50)
    t_karras_comp = best_in_process(karras_computation, 50)

    with tempfile.TemporaryDirectory() as cache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = cache
        py = sys.executable
        cli = _symsched_command()
        t_numpy = best_wall([py, "-c", "import numpy"], env, repeat)
        t_kl = best_wall([*cli, *KL_ARGS], env, repeat)
        t_karras = best_wall([*cli, *KARRAS_ARGS], env, repeat)
        t_import = best_wall([py, "-c", "import symsched.cli"], env, repeat)
        t_parser = best_wall([py, "-c", "import symsched.cli as c; c.build_parser()"], env, repeat)

    print(f"[startup] best of {repeat} fresh processes (bytecode cached)")
    print(f"  python -c 'import numpy'            : {t_numpy:.3f} s")
    print(f"  import symsched.cli                  : {t_import:.3f} s")
    print(f"  import symsched.cli; build_parser()  : {t_parser:.3f} s  (every command)")
    ok = True
    for label, t_cmd, t_comp in (
        ("symsched " + " ".join(KL_ARGS), t_kl, t_kl_comp),
        ("symsched " + " ".join(KARRAS_ARGS), t_karras, t_karras_comp),
    ):
        ratio = t_cmd / (t_numpy + t_comp)
        meets = ratio <= TARGET
        ok &= meets
        print(f"  {label}")
        print(
            f"    {t_cmd:.3f} s; computation in-process {t_comp * 1e3:.3f} ms; ratio to numpy "
            f"import + computation {ratio:.2f} (target <= {TARGET:g}: "
            f"{'meets' if meets else 'MISSES'})"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
