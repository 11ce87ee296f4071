r"""The installed diffusers' own shift functions, callable without the pipelines' heavy imports.

The Flux pipelines define their shift rules as plain module-level functions
(``calculate_shift`` of ``pipelines/flux/pipeline_flux.py``, ``compute_empirical_mu`` of
``pipelines/flux2/pipeline_flux2.py``) and their token packing as static methods, but importing
those modules imports ``transformers`` (the text encoders), which the project does not need. So
:func:`diffusers_function` imports the module when it can and otherwise compiles the one function
from the installed file's own source: the definition is parsed with :mod:`ast`, refused unless
every name it reads is an argument, a local or a builtin (so it runs exactly as it would inside
the module), and executed alone. Either way the code that runs is the installed diffusers' code,
not a copy. diffusers is imported lazily (a test-time dependency).
"""

from __future__ import annotations

import ast
import builtins
import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["DiffusersFunction", "diffusers_function", "diffusers_version"]


@dataclass(frozen=True)
class DiffusersFunction:
    """A function of the installed diffusers and how it was obtained.

    Attributes
    ----------
    function
        The callable.
    qualname
        ``module:Class.name`` inside diffusers.
    how
        ``"imported"`` or ``"compiled from the installed source (...)"`` with the import error.
    """

    function: Callable[..., Any]
    qualname: str
    how: str


def diffusers_version() -> str:
    """The installed diffusers' version (``ImportError`` if it is not installed)."""
    import diffusers

    return str(diffusers.__version__)


def _free_names(node: ast.FunctionDef) -> set[str]:
    """Names the function reads that are not its arguments, its locals or builtins."""
    args = node.args
    bound = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}
    bound |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
    loaded: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            if isinstance(sub.ctx, ast.Store | ast.Del):
                bound.add(sub.id)
            else:
                loaded.add(sub.id)
    return loaded - bound - set(dir(builtins))


def diffusers_function(module: str, name: str, cls: str | None = None) -> DiffusersFunction:
    """``diffusers.<module>.<name>`` (or the static method ``<cls>.<name>``).

    Parameters
    ----------
    module
        Dotted module path inside diffusers, e.g. ``"pipelines.flux.pipeline_flux"``.
    name
        The function (or static method) name.
    cls
        The class holding the static method, if any.

    Returns
    -------
    DiffusersFunction

    Raises
    ------
    ImportError
        diffusers is not installed.
    LookupError
        The function is not in the file, or it reads module-level names (it could not run alone).
    """
    spec = importlib.util.find_spec("diffusers")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("diffusers is not installed")
    qualname = f"{module}:{cls + '.' if cls else ''}{name}"
    try:
        mod = importlib.import_module(f"diffusers.{module}")
    except ImportError as exc:
        reason = f"{type(exc).__name__}: {exc}"
    else:
        owner = getattr(mod, cls) if cls else mod
        return DiffusersFunction(getattr(owner, name), qualname, "imported")
    path = Path(next(iter(spec.submodule_search_locations))) / (module.replace(".", "/") + ".py")
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    body: list[ast.stmt] = tree.body
    if cls is not None:
        holder = next((n for n in body if isinstance(n, ast.ClassDef) and n.name == cls), None)
        if holder is None:
            raise LookupError(f"no class {cls} in {path.name}")
        body = holder.body
    node = next((n for n in body if isinstance(n, ast.FunctionDef) and n.name == name), None)
    if node is None:
        raise LookupError(f"no function {name} in {path.name}")
    free = _free_names(node)
    if free:
        raise LookupError(f"{qualname} reads module names {sorted(free)}: it cannot run alone")
    node.decorator_list = []  # a static method is a plain function once outside its class
    code = compile(ast.fix_missing_locations(ast.Module([node], [])), str(path), "exec")
    namespace: dict[str, Any] = {"__builtins__": builtins}
    exec(code, namespace)
    how = f"compiled from the installed source of {path.name} ({reason})"
    return DiffusersFunction(namespace[name], qualname, how)
