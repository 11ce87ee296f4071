"""Named type aliases of the public API (instead of ``Any``).

Arrays are float64 numpy arrays unless a function says otherwise; where a function accepts either
backend it says ``BackendArray`` (a numpy array or a torch tensor). torch is imported for type
checking only, never at run time by this module.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal, TypeAlias

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

if TYPE_CHECKING:
    import mpmath
    import torch
    from _typeshed import DataclassInstance

__all__ = [
    "ArrayBackend",
    "ArrayLike",
    "Backend",
    "BackendArray",
    "BackendArrayLike",
    "BackendDType",
    "BoolArray",
    "CompiledFunction",
    "Device",
    "FloatArray",
    "GridLike",
    "IntArray",
    "JSONDict",
    "JSONValue",
    "KLDirection",
    "MpmathFunction",
    "MpmathNumber",
    "NumpyFunction",
    "OptionsClass",
    "PathLike",
    "RowsLike",
    "SpectrumLike",
    "Start",
    "TorchDType",
    "TorchFunction",
    "TorchGenerator",
    "TorchModule",
    "TorchTensor",
]

FloatArray: TypeAlias = NDArray[np.float64]
"""A float64 numpy array."""

IntArray: TypeAlias = NDArray[np.int64]
"""An int64 numpy array."""

BoolArray: TypeAlias = NDArray[np.bool_]
"""A boolean numpy array."""

SpectrumLike: TypeAlias = ArrayLike
"""Covariance eigenvalues: a sequence, a numpy array or a (CPU) torch tensor of positive reals."""

GridLike: TypeAlias = ArrayLike
"""Noise levels ``[sigma_0 > ... > sigma_N >= 0]``; ``sigma_0`` may be ``inf``."""

Backend: TypeAlias = Literal["numpy", "torch", "mpmath"]
"""Where compiled expressions run."""

ArrayBackend: TypeAlias = Literal["numpy", "torch"]
"""The array backends of the fast numerics."""

Start: TypeAlias = Literal["exact", "prior"]
"""Start distribution: the true marginal at ``sigma_0`` or the prior ``N(0, sigma_0^2 I)``."""

KLDirection: TypeAlias = Literal["kl_source_output", "kl_output_source"]
"""KL(target || output) or KL(output || target)."""

TorchTensor: TypeAlias = "torch.Tensor"
"""A torch tensor (torch is an optional dependency)."""

TorchDType: TypeAlias = "torch.dtype"
"""A torch dtype."""

Device: TypeAlias = "str | torch.device | None"
"""A torch device (``None``: the default device, the CPU)."""

BackendArray: TypeAlias = "FloatArray | torch.Tensor"
"""A float64 numpy array, or a torch tensor for the torch backend."""

BackendArrayLike: TypeAlias = "ArrayLike | torch.Tensor"
"""An input of either backend: an array-like (converted to float64) or a torch tensor."""

BackendDType: TypeAlias = "DTypeLike | torch.dtype"
"""A numpy dtype (numpy backend) or a torch dtype (torch backend); ``None`` means float64."""

MpmathNumber: TypeAlias = "mpmath.mpf"
"""An mpmath number (mpmath ships no type information, so this is unchecked)."""

NumpyFunction: TypeAlias = Callable[..., FloatArray]
"""A compiled expression for numpy: array-like arguments, the broadcast float64 array back."""

TorchFunction: TypeAlias = "Callable[..., torch.Tensor]"
"""A compiled expression for torch: tensors or array-likes in, the broadcast tensor back."""

MpmathFunction: TypeAlias = "Callable[..., mpmath.mpf]"
"""A compiled expression for mpmath: numbers in, an mpmath number back."""

CompiledFunction: TypeAlias = "NumpyFunction | TorchFunction | MpmathFunction"
"""A compiled expression for a backend chosen at run time."""

RowsLike: TypeAlias = "ArrayLike | torch.Tensor"
"""Samples as rows ``(n, d)``: an array-like or a torch tensor (read on the CPU)."""

TorchGenerator: TypeAlias = "torch.Generator"
"""A torch random number generator (seeded with ``torch.Generator().manual_seed(seed)``)."""

TorchModule: TypeAlias = "torch.nn.Module"
"""A torch network (``torch.nn.Module``)."""

JSONValue: TypeAlias = "str | int | float | bool | list[JSONValue] | dict[str, JSONValue] | None"
"""A value that ``json.dumps`` writes as is: a scalar, or a list or string-keyed dict of them."""

JSONDict: TypeAlias = "dict[str, JSONValue]"
"""A JSON object (schedule ``params``, model parameters, checkpoint configs)."""

OptionsClass: TypeAlias = "type[DataclassInstance]"
"""An option-set class: a dataclass whose fields are declared with ``symsched._options.option``."""

PathLike: TypeAlias = str | os.PathLike[str]
"""A file-system path as a string or a :class:`pathlib.Path`."""
