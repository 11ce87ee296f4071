r"""The one lambdify bridge: SymPy expressions to numpy, torch and mpmath callables.

This is the only module that calls :func:`sympy.lambdify`. Every compiled function is

* generated with ``cse=True`` (common subexpressions are evaluated once; measured 16x faster on
  KL gradients, docs/index.md#from-derivation-to-numbers),
* cached per ``(args, expr, backend)``,
* wrapped so that constant or partly constant expressions broadcast to the shape of the inputs
  (EDM's ``sigma_deriv = lambda t: 1`` is the classic hazard),
* float64 by default; for torch, inputs are moved to the requested ``device`` and ``dtype``.

torch is imported only when a torch function is asked for, SymPy only when a function is
compiled (the numpy functions of the commands' hot paths are generated ahead of time:
:mod:`symsched._compiled`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal, cast, overload

import numpy as np

from symsched._typing import (
    Backend,
    BackendArray,
    BackendArrayLike,
    BackendDType,
    CompiledFunction,
    Device,
    FloatArray,
    MpmathFunction,
    NumpyFunction,
    TorchFunction,
    TorchTensor,
)

if TYPE_CHECKING:
    import sympy as sp
    from numpy.typing import DTypeLike
    from sympy.codegen.cfunctions import expm1, log1p

    EXPM1 = expm1
    LOG1P = log1p

__all__ = ["BACKENDS", "Backend", "lambdify", "lambdify_source", "to_backend"]

BACKENDS: tuple[str, ...] = ("numpy", "torch", "mpmath")


@functools.cache
def _torch_printer_class() -> type:
    """SymPy's torch printer plus the stable special functions it lacks (``expm1``, ``log1p``).

    Built on first use: importing ``sympy.printing.pytorch`` imports torch.
    """
    from sympy.printing.pytorch import TorchPrinter

    class _TorchPrinter(TorchPrinter):  # type: ignore[misc]
        def _print_expm1(self, expr: sp.Expr) -> str:
            return f"{self._module_format('torch.expm1')}({self._print(expr.args[0])})"

        def _print_log1p(self, expr: sp.Expr) -> str:
            return f"{self._module_format('torch.log1p')}({self._print(expr.args[0])})"

    return _TorchPrinter


@functools.lru_cache(maxsize=512)
def _compile(args: tuple[sp.Symbol, ...], expr: sp.Expr, backend: str) -> Callable[..., object]:
    import sympy as sp

    fn: Callable[..., object]
    if backend == "torch":
        import torch

        fn = sp.lambdify(
            args,
            expr,
            modules=[{"expm1": torch.expm1, "log1p": torch.log1p}, "torch"],
            printer=_torch_printer_class()({"strict": False}),
            cse=True,
        )
    elif backend == "mpmath":
        fn = sp.lambdify(args, expr, modules="mpmath", cse=True)
    else:
        fn = sp.lambdify(args, expr, modules="numpy", cse=True)
    return fn


def _numpy_dtype(dtype: BackendDType | None) -> DTypeLike:
    """The numpy dtype of a numpy-backend ``dtype`` argument (float64 when ``None``)."""
    return np.float64 if dtype is None else cast("DTypeLike", dtype)


@overload
def to_backend(
    x: BackendArrayLike,
    backend: Literal["numpy"],
    *,
    dtype: BackendDType | None = None,
    device: Device = None,
) -> FloatArray: ...
@overload
def to_backend(
    x: BackendArrayLike,
    backend: Literal["torch"],
    *,
    dtype: BackendDType | None = None,
    device: Device = None,
) -> TorchTensor: ...
@overload
def to_backend(
    x: BackendArrayLike, backend: str, *, dtype: BackendDType | None = None, device: Device = None
) -> BackendArray: ...
def to_backend(
    x: BackendArrayLike, backend: str, *, dtype: BackendDType | None = None, device: Device = None
) -> BackendArray:
    """Convert ``x`` to an array of ``backend`` (float64 unless ``dtype`` says otherwise).

    Parameters
    ----------
    x
        An array-like or a torch tensor.
    backend
        ``"numpy"`` or ``"torch"``.
    dtype
        The dtype of the result (numpy or torch; default float64).
    device
        The torch device (torch only; ``None``: the CPU, or the tensor's own device).

    Returns
    -------
    FloatArray or TorchTensor
        ``x`` as a numpy array or a torch tensor.

    Raises
    ------
    ValueError
        If ``backend`` is not ``"numpy"`` or ``"torch"``.
    """
    if backend == "torch":
        import torch

        dt = cast("torch.dtype", dtype) if dtype is not None else torch.float64
        if isinstance(x, torch.Tensor):
            return x.to(dtype=dt, device=device)
        return torch.as_tensor(np.asarray(x, dtype=np.float64), dtype=dt, device=device)
    if backend == "numpy":
        out: FloatArray = np.asarray(x, dtype=_numpy_dtype(dtype))
        return out
    raise ValueError(f"backend must be 'numpy' or 'torch' for arrays, got {backend!r}")


@overload
def lambdify(
    args: Sequence[sp.Symbol],
    expr: sp.Expr,
    backend: Literal["numpy"] = "numpy",
    *,
    dtype: BackendDType | None = None,
    device: Device = None,
) -> NumpyFunction: ...
@overload
def lambdify(
    args: Sequence[sp.Symbol],
    expr: sp.Expr,
    backend: Literal["torch"],
    *,
    dtype: BackendDType | None = None,
    device: Device = None,
) -> TorchFunction: ...
@overload
def lambdify(
    args: Sequence[sp.Symbol],
    expr: sp.Expr,
    backend: Literal["mpmath"],
    *,
    dtype: BackendDType | None = None,
    device: Device = None,
) -> MpmathFunction: ...
@overload
def lambdify(
    args: Sequence[sp.Symbol],
    expr: sp.Expr,
    backend: str,
    *,
    dtype: BackendDType | None = None,
    device: Device = None,
) -> CompiledFunction: ...
def lambdify(
    args: Sequence[sp.Symbol],
    expr: sp.Expr,
    backend: str = "numpy",
    *,
    dtype: BackendDType | None = None,
    device: Device = None,
) -> CompiledFunction:
    r"""Compile ``expr`` as a function of ``args`` for ``backend`` (cached, ``cse=True``).

    Parameters
    ----------
    args
        The SymPy symbols, in call order.
    expr
        The expression to compile.
    backend
        ``"numpy"`` (default), ``"torch"`` or ``"mpmath"``.
    dtype, device
        numpy / torch dtype (default float64) and torch device. Ignored for mpmath, whose
        precision is ``mpmath.mp.dps``.

    Returns
    -------
    NumpyFunction, TorchFunction or MpmathFunction
        ``f(*values)``. For numpy/torch the result always has the broadcast shape of the inputs,
        even when ``expr`` is constant in some of them.

    Raises
    ------
    ValueError
        If ``backend`` is not one of :data:`BACKENDS`.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    import sympy as sp

    args_t = tuple(args)
    expr = sp.sympify(expr)
    fn = _compile(args_t, expr, backend)
    if backend == "mpmath":
        return fn

    if backend == "torch":

        def torch_wrapped(*values: BackendArrayLike) -> TorchTensor:
            import torch

            vals = [to_backend(v, "torch", dtype=dtype, device=device) for v in values]
            shape = np.broadcast_shapes(*(tuple(v.shape) for v in vals)) if vals else ()
            out = torch.as_tensor(
                fn(*vals),
                dtype=vals[0].dtype if vals else torch.float64,
                device=vals[0].device if vals else device,
            )
            return out.expand(shape) if out.shape != shape else out

        return torch_wrapped

    def numpy_wrapped(*values: BackendArrayLike) -> FloatArray:
        vals = [to_backend(v, "numpy", dtype=dtype) for v in values]
        shape = np.broadcast_shapes(*(v.shape for v in vals)) if vals else ()
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            out: FloatArray = np.asarray(fn(*vals), dtype=_numpy_dtype(dtype))
        return np.broadcast_to(out, shape) if out.shape != shape else out

    return numpy_wrapped


def lambdify_source(args: Sequence[sp.Symbol], expr: sp.Expr, name: str) -> str:
    """The Python source of the numpy function :func:`lambdify` compiles (``cse=True``), as
    ``def name(...)`` with fully qualified ``numpy.`` names: what :mod:`symsched._codegen` writes.

    Parameters
    ----------
    args, expr
        As for :func:`lambdify`.
    name
        The name of the function in the source.

    Returns
    -------
    str
        The source, SymPy's ``NumPyPrinter`` output as ``lambdify`` generates it.
    """
    import inspect

    import sympy as sp
    from sympy.printing.numpy import NumPyPrinter

    printer = NumPyPrinter(
        {"fully_qualified_modules": True, "inline": True, "allow_unknown_functions": True}
    )
    fn = sp.lambdify(tuple(args), sp.sympify(expr), modules="numpy", printer=printer, cse=True)
    src = inspect.getsource(fn)
    head = "def _lambdifygenerated("
    if not src.startswith(head):  # pragma: no cover - a SymPy that names it otherwise
        raise RuntimeError(f"unexpected lambdify source: {src[:60]!r}")
    return f"def {name}(" + src[len(head) :]


def __getattr__(name: str) -> object:
    # Re-exported so that derivations can build expressions with the stable functions (SymPy is
    # imported on first use).
    if name in ("EXPM1", "LOG1P"):
        from sympy.codegen.cfunctions import expm1, log1p

        return expm1 if name == "EXPM1" else log1p
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
