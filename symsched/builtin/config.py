"""Reading a diffusers ``scheduler_config.json`` as a built-in's options.

A scheduler config (what ``scheduler.save_config`` writes, or a pipeline's
``scheduler/scheduler_config.json``) names its class in ``_class_name`` and holds that class's
constructor arguments. :func:`options_from_config` maps it onto a reproduced diffusers built-in the
way ``Scheduler.from_config`` does: keys that are options of the built-in set them; keys the
scheduler class takes but that do not change its grid (``prediction_type``, ``clip_sample`` ...,
the built-in's ``config_keys``) and keys that are not arguments of the class (another scheduler's
keys, diffusers' own ``_diffusers_version``) are ignored, and listed. A key that *would* change the
grid and is not reproduced (``trained_betas``) is refused rather than ignored
(docs/conformance.md#diffusers-configs).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from symsched._options import option_fields
from symsched.builtin._registry import AnyBuiltin, get_builtin

__all__ = [
    "DIFFUSERS_CLASSES",
    "MAX_CONFIG_BYTES",
    "builtin_for_config",
    "options_from_config",
    "read_config",
]

DIFFUSERS_CLASSES: dict[str, str] = {
    "EulerDiscreteScheduler": "diffusers:euler",
    "EulerAncestralDiscreteScheduler": "diffusers:euler-ancestral",
    "HeunDiscreteScheduler": "diffusers:heun",
    "DPMSolverMultistepScheduler": "diffusers:dpmpp-2m",
    "UniPCMultistepScheduler": "diffusers:unipc",
    "DDIMScheduler": "diffusers:ddim",
    "FlowMatchEulerDiscreteScheduler": "diffusers:flow-euler",
    "FlowMatchHeunDiscreteScheduler": "diffusers:flow-heun",
}
"""The diffusers scheduler classes reproduced here, by ``_class_name``, and their built-in."""

MAX_CONFIG_BYTES = 1 << 20
"""A scheduler config is a few hundred bytes; a larger file is refused unread."""

_REFUSED_WHEN_SET = ("trained_betas",)


def read_config(path: str | Path) -> dict[str, object]:
    """The JSON object of a scheduler config file.

    Raises
    ------
    ValueError
        If the file does not exist, is over :data:`MAX_CONFIG_BYTES`, or is not a JSON object.
    """
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"{str(p)!r} does not exist or is not a file")
    if p.stat().st_size > MAX_CONFIG_BYTES:
        raise ValueError(f"{str(p)!r} is larger than 1 MiB: not a scheduler config")
    try:
        obj = json.loads(p.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{str(p)!r} is not JSON ({exc.__class__.__name__}: {exc})") from None
    if not isinstance(obj, dict):
        raise ValueError(f"{str(p)!r} is not a JSON object (a scheduler config is one)")
    return obj


def builtin_for_config(config: Mapping[str, object], name: str | None = None) -> AnyBuiltin:
    """The built-in that reads ``config``: ``name`` if given, else the one of ``_class_name``.

    Raises
    ------
    ValueError
        If ``name`` is not a diffusers built-in, or no name is given and the config's class is
        not reproduced (the message lists the classes that are).
    """
    if name is not None:
        b = get_builtin(name)
        if b.tool != "diffusers":
            raise ValueError(f"a scheduler config is read by a diffusers built-in, not {name!r}")
        return b
    cls = config.get("_class_name")
    if not isinstance(cls, str) or cls not in DIFFUSERS_CLASSES:
        known = ", ".join(sorted(DIFFUSERS_CLASSES))
        raise ValueError(
            f"the config's _class_name {cls!r} is not a reproduced scheduler ({known}); name the "
            "scheduler to read it as, e.g. --name diffusers:euler (as from_config would)"
        )
    return get_builtin(DIFFUSERS_CLASSES[cls])


def options_from_config(
    builtin: AnyBuiltin, config: Mapping[str, object]
) -> tuple[dict[str, object], list[str]]:
    """The built-in's option values that ``config`` sets, and the keys it ignores.

    Returns
    -------
    (dict, list of str)
        Option name to value (type-checked later by :meth:`Builtin.make_options`), and the sorted
        keys ignored as ``from_config`` ignores them.

    Raises
    ------
    ValueError
        If the config sets a grid-changing argument that is not reproduced (``trained_betas``).
    """
    names = {f.name for f in option_fields(builtin.options)} & builtin.config_keys
    values: dict[str, object] = {}
    ignored: list[str] = []
    for key, value in config.items():
        if key in names:
            values[key] = value
        elif key in _REFUSED_WHEN_SET and value is not None:
            raise ValueError(
                f"the config sets {key}, which {builtin.name} does not reproduce; only the "
                "named beta schedules are (beta_schedule)"
            )
        else:
            ignored.append(key)
    return values, sorted(ignored)
