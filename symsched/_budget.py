"""The memory budget: requests too large are refused before they allocate (docs/cli.md#size-guards).

Each command estimates the memory its largest arrays will take from the sizes the user asked for
(steps, samples, probe levels, dimension, eigenvalues, NFE lists) and calls :func:`check_memory`,
which refuses an estimate above the budget with one line naming the flag, the estimate, the
budget and how to raise it. The budget is, in order of precedence:

1. ``--max-memory SIZE`` (a global flag of ``symsched``; :func:`set_budget`);
2. the environment variable ``SYMSCHED_MAX_MEMORY`` (e.g. ``16G``);
3. half of the memory available when the command starts (``MemAvailable`` of ``/proc/meminfo``,
   else the physical memory the OS reports free, else 4 GiB).

Estimates count 8-byte floats of the arrays that are alive together, times the number of such
temporaries the computation keeps (measured, see the per-command functions), plus a fixed base.
They are deliberately on the high side: a refusal at twice the real need is better than an
allocator failure at the end of a long run.
"""

from __future__ import annotations

import math
import os
import re

from symsched._io import UsageError

__all__ = [
    "DEFAULT_FRACTION",
    "ENV_VARIABLE",
    "MemoryBudgetError",
    "available_memory",
    "check_memory",
    "format_size",
    "memory_budget",
    "parse_size",
    "set_budget",
]

DEFAULT_FRACTION = 0.5
"""Fraction of the available memory a command may use by default."""
ENV_VARIABLE = "SYMSCHED_MAX_MEMORY"
_FALLBACK_AVAILABLE = 4 * 1024**3
_override: int | None = None
_UNITS = {"": 1, "B": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


class MemoryBudgetError(UsageError):
    """A request whose estimated memory exceeds the budget (exit status 2 on the command line)."""


def parse_size(text: str, flag: str = "--max-memory") -> int:
    """Bytes of a size such as ``16G``, ``512M``, ``1.5GiB`` or ``2e9`` (binary units)."""
    m = re.fullmatch(
        r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([KMGT]?)(?:i?B)?\s*", str(text), flags=re.I
    )
    if m is None:
        raise UsageError(f"{flag} must be a size such as 16G, 512M or 2e9 (bytes), got {text!r}")
    value = float(m.group(1)) * _UNITS[m.group(2).upper()]
    if not (math.isfinite(value) and value >= 1):
        raise UsageError(f"{flag} must be a positive size, got {text!r}")
    return int(value)


def format_size(nbytes: float) -> str:
    """``nbytes`` in the largest binary unit that keeps at least one digit before the point."""
    if not math.isfinite(nbytes):
        return "an unbounded amount"
    for unit in ("T", "G", "M", "K"):
        if nbytes >= _UNITS[unit]:
            return f"{nbytes / _UNITS[unit]:.3g} {unit}B"
    return f"{int(nbytes)} B"


def available_memory() -> int:
    """Bytes of memory available now (``MemAvailable``), or a conservative fallback."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (OSError, ValueError, AttributeError):
        return _FALLBACK_AVAILABLE


def set_budget(nbytes: int | None) -> None:
    """Set (or with ``None`` clear) the budget of this process, as ``--max-memory`` does."""
    global _override
    _override = nbytes


def memory_budget() -> tuple[int, str]:
    """The budget in bytes and where it comes from (for the refusal message)."""
    if _override is not None:
        return _override, "--max-memory"
    env = os.environ.get(ENV_VARIABLE, "").strip()
    if env:
        return parse_size(env, ENV_VARIABLE), ENV_VARIABLE
    return int(DEFAULT_FRACTION * available_memory()), "half the available memory"


def check_memory(nbytes: float, *, flag: str, what: str, fix: str | None = None) -> None:
    """Refuse ``nbytes`` above the budget.

    Parameters
    ----------
    nbytes
        The estimate (may be ``inf``).
    flag
        The option that sets the size (the fix the message names), e.g. ``--steps``.
    what
        What needs the memory, e.g. ``"a 1e9-step grid"``.
    fix
        What to lower (default ``"lower FLAG"``).

    Raises
    ------
    MemoryBudgetError
        With the estimate, the budget and the option that raises it.
    """
    budget, source = memory_budget()
    if nbytes <= budget:
        return
    need = format_size(max(nbytes, 1.0))
    if fix is None:
        fix = f"give fewer eigenvalues in {flag}" if flag in _SPECTRUM_FLAGS else f"lower {flag}"
    raise MemoryBudgetError(
        f"{flag}: {what} needs about {need}, over the memory budget of {format_size(budget)} "
        f"({source}); {fix} or raise the budget with --max-memory SIZE"
    )


_SPECTRUM_FLAGS = ("--eigenvalues", "--spectrum-file", "--spectra")
