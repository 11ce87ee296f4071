"""JSON output of the whole project: ``inf`` as ``"inf"``, NaN refused, numpy unwrapped.

The convention of docs/conventions.md#json-output.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping

import numpy as np

from symsched._typing import JSONValue

__all__ = ["dumps_json", "json_safe"]


def json_safe(value: object) -> JSONValue:
    """``value`` with numpy scalars and arrays unwrapped and infinities written as ``"inf"``.

    Parameters
    ----------
    value
        Mappings (keys become strings), lists, tuples, numpy arrays and scalars, floats, ints,
        bools, strings and ``None``, nested.

    Returns
    -------
    JSONValue
        The same structure in plain Python types.

    Raises
    ------
    ValueError
        If ``value`` holds a NaN: output never carries NaN.
    TypeError
        If ``value`` holds anything else.
    """
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return [json_safe(v) for v in value.tolist()]
    if isinstance(value, (np.floating, float)):
        v = float(value)
        if math.isnan(v):
            raise ValueError("refusing to write NaN to JSON output")
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return v
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if value is None or isinstance(value, (str, int, bool)):
        return value
    raise TypeError(f"cannot write {type(value).__name__} to JSON output")


def dumps_json(value: object, *, indent: int | None = 2) -> str:
    """``json.dumps`` of :func:`json_safe` ``(value)`` (``allow_nan=False``).

    Parameters
    ----------
    value
        As :func:`json_safe`.
    indent
        As :func:`json.dumps` (``None``: one line).

    Returns
    -------
    str
        The JSON text.

    Raises
    ------
    ValueError, TypeError
        As :func:`json_safe`.
    """
    return json.dumps(json_safe(value), indent=indent, allow_nan=False)
