"""The :class:`Schedule` object: an N-step grid with the parameters that produced it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

from symsched._json import json_safe
from symsched._typing import FloatArray, JSONValue
from symsched._validate import as_grid
from symsched._version import __version__

__all__ = ["Schedule"]


@dataclass(frozen=True)
class Schedule:
    """An N-step grid ``sigmas = [sigma_0 > ... > sigma_N]`` with the parameters that produced it.

    Attributes
    ----------
    method
        The registered method that built it (or ``"explicit"``).
    sigmas
        The N+1 noise levels, strictly decreasing; ``sigma_0`` may be ``inf``
        (docs/conventions.md#grids).
    params
        Every parameter that produced the grid, defaults included.
    """

    method: str
    sigmas: FloatArray
    params: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sigmas", as_grid(self.sigmas))

    @property
    def steps(self) -> int:
        """The number of steps N (one fewer than the levels)."""
        return int(self.sigmas.size - 1)

    def to_json(self) -> dict[str, JSONValue]:
        """The schedule object (docs/conventions.md#json-output).

        Returns
        -------
        dict
            ``method``, ``steps``, ``sigmas`` (``"inf"`` for an infinite level), ``params`` and
            ``version``, JSON-safe.
        """
        out = json_safe(
            {
                "method": self.method,
                "steps": self.steps,
                "sigmas": self.sigmas,
                "params": dict(self.params),
                "version": __version__,
            }
        )
        return cast(dict[str, JSONValue], out)
