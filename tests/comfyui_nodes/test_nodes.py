"""The ComfyUI node pack ``comfyui/symsched_nodes``, tested without ComfyUI.

As ComfyUI's own unit tests do, minimal stand-ins of ``comfy_api.latest`` and ``comfy.samplers``
are put into ``sys.modules`` with :func:`unittest.mock.patch.dict`; their signatures follow
ComfyUI's ``comfy_api/latest/_io.py`` (inputs take keyword options such as ``default``, ``min``,
``options``, ``multiline``; outputs ``display_name``) and ``comfy/samplers.py``
(``SchedulerHandler(handler, use_ms=True)``, handlers called as ``handler(n=, sigma_min=,
sigma_max=)`` when ``use_ms`` is false). The pack is loaded from its folder the way ComfyUI's
``load_custom_node`` does: ``importlib.util.spec_from_file_location`` on ``__init__.py``, the module
named after the folder path, ``NODE_CLASS_MAPPINGS`` if present, else ``comfy_entrypoint``.
"""

from __future__ import annotations

import asyncio
import importlib.util
import math
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple
from unittest.mock import patch

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import symsched  # noqa: E402
from symsched.integrations import comfyui as api  # noqa: E402
from symsched.models.analytic import GaussianModel  # noqa: E402
from symsched.score import score_grid  # noqa: E402
from symsched.stein import stein_schedule  # noqa: E402

PACK = Path(__file__).resolve().parents[2] / "comfyui" / "symsched_nodes"
NODE_IDS = {
    "SymschedOptimalSigmas",
    "SymschedMethodSigmas",
    "SymschedSteinSigmas",
    "SymschedScoreSigmas",
}

# -- stand-ins of ComfyUI's modules ---------------------------------------------------------------


def _fake_io() -> types.ModuleType:
    io = types.ModuleType("comfy_api.latest.io")

    class Input:
        def __init__(
            self,
            id,
            display_name=None,
            optional=False,
            tooltip=None,
            lazy=None,
            extra_dict=None,
            raw_link=None,
        ):
            self.id, self.display_name, self.optional, self.tooltip = (
                id,
                display_name,
                optional,
                tooltip,
            )

    class Output:
        def __init__(self, id=None, display_name=None, tooltip=None, is_output_list=False):
            self.id, self.display_name, self.tooltip = id, display_name, tooltip

    def comfytype(io_type: str, input_cls: type = Input) -> type:
        inp = type("Input", (input_cls,), {"io_type": io_type})
        out = type("Output", (Output,), {"io_type": io_type})
        return type(io_type, (), {"io_type": io_type, "Input": inp, "Output": out})

    class IntInput(Input):
        def __init__(
            self,
            id,
            display_name=None,
            optional=False,
            tooltip=None,
            lazy=None,
            default=None,
            min=None,
            max=None,
            step=None,
            control_after_generate=None,
            display_mode=None,
            socketless=None,
            force_input=None,
            extra_dict=None,
            raw_link=None,
        ):
            super().__init__(id, display_name, optional, tooltip, lazy)
            self.default, self.min, self.max = default, min, max

    class FloatInput(Input):
        def __init__(
            self,
            id,
            display_name=None,
            optional=False,
            tooltip=None,
            lazy=None,
            default=None,
            min=None,
            max=None,
            step=None,
            round=None,
            display_mode=None,
            socketless=None,
            force_input=None,
            extra_dict=None,
            raw_link=None,
        ):
            super().__init__(id, display_name, optional, tooltip, lazy)
            self.default, self.min, self.max, self.round = default, min, max, round

    class StringInput(Input):
        def __init__(
            self,
            id,
            display_name=None,
            optional=False,
            tooltip=None,
            lazy=None,
            multiline=False,
            placeholder=None,
            default=None,
            dynamic_prompts=None,
            socketless=None,
            force_input=None,
            extra_dict=None,
            raw_link=None,
        ):
            super().__init__(id, display_name, optional, tooltip, lazy)
            self.default, self.multiline = default, multiline

    class BooleanInput(Input):
        def __init__(
            self,
            id,
            display_name=None,
            optional=False,
            tooltip=None,
            lazy=None,
            default=None,
            label_on=None,
            label_off=None,
            socketless=None,
            force_input=None,
            extra_dict=None,
            raw_link=None,
        ):
            super().__init__(id, display_name, optional, tooltip, lazy)
            self.default = default

    class ComboInput(Input):
        def __init__(
            self,
            id,
            options=None,
            display_name=None,
            optional=False,
            tooltip=None,
            lazy=None,
            default=None,
            control_after_generate=None,
            upload=None,
            image_folder=None,
            remote=None,
            socketless=None,
            extra_dict=None,
            raw_link=None,
        ):
            super().__init__(id, display_name, optional, tooltip, lazy)
            self.options, self.default = options, default

    io.Int = comfytype("INT", IntInput)
    io.Float = comfytype("FLOAT", FloatInput)
    io.String = comfytype("STRING", StringInput)
    io.Boolean = comfytype("BOOLEAN", BooleanInput)
    io.Combo = comfytype("COMBO", ComboInput)
    for name, io_type in (
        ("Sigmas", "SIGMAS"),
        ("Model", "MODEL"),
        ("Conditioning", "CONDITIONING"),
        ("Latent", "LATENT"),
    ):
        setattr(io, name, comfytype(io_type))

    @dataclass
    class Schema:
        node_id: str
        display_name: str | None = None
        category: str = "sd"
        inputs: list[Any] = field(default_factory=list)
        outputs: list[Any] = field(default_factory=list)
        hidden: list[Any] = field(default_factory=list)
        description: str = ""
        is_input_list: bool = False
        is_output_node: bool = False
        is_deprecated: bool = False
        is_experimental: bool = False
        is_api_node: bool = False
        not_idempotent: bool = False
        enable_expand: bool = False

        def validate(self) -> None:
            ids = [i.id for i in self.inputs]
            if len(set(ids)) != len(ids):
                raise ValueError(f"Input ids must be unique: {ids}")

    class ComfyNode:
        @classmethod
        def define_schema(cls):
            raise NotImplementedError

        @classmethod
        def execute(cls, **kwargs):
            raise NotImplementedError

        @classmethod
        def GET_SCHEMA(cls):
            schema = cls.define_schema()
            schema.validate()
            return schema

    class NodeOutput:
        def __init__(self, *args, ui=None, expand=None, block_execution=None):
            self.args, self.ui, self.expand = args, ui, expand

        @property
        def result(self):
            return self.args if self.args else None

        def __getitem__(self, index):
            return self.args[index]

    io.Schema, io.ComfyNode, io.NodeOutput = Schema, ComfyNode, NodeOutput
    return io


class _ComfyExtension:
    async def on_load(self) -> None:
        return None

    async def get_node_list(self) -> list[type]:
        raise NotImplementedError


class SchedulerHandler(NamedTuple):
    handler: Any
    use_ms: bool = True


def _fake_samplers(*, with_handlers: bool = True) -> types.ModuleType:
    s = types.ModuleType("comfy.samplers")
    if with_handlers:
        s.SchedulerHandler = SchedulerHandler
        s.SCHEDULER_HANDLERS = {"karras": SchedulerHandler(lambda **kw: None, use_ms=False)}
        s.SCHEDULER_NAMES = list(s.SCHEDULER_HANDLERS)
    else:  # ComfyUI before SchedulerHandler: names only, an if chain picks the scheduler
        s.SCHEDULER_NAMES = ["normal", "karras"]
    s.KSampler = type("KSampler", (), {"SCHEDULERS": list(s.SCHEDULER_NAMES)})

    class KSAMPLER:
        def __init__(self, sampler_function, extra_options={}, inpaint_options={}):  # noqa: B006
            self.sampler_function = sampler_function

    s.KSAMPLER = KSAMPLER
    return s


def _modules(*, v3: bool, samplers: types.ModuleType | None) -> dict[str, Any]:
    mods: dict[str, Any] = {}
    if v3:
        latest = types.ModuleType("comfy_api.latest")
        latest.ComfyExtension = _ComfyExtension
        latest.io = _fake_io()
        root = types.ModuleType("comfy_api")
        root.__path__ = []
        root.latest = latest
        mods |= {"comfy_api": root, "comfy_api.latest": latest}
    else:
        mods["comfy_api"] = None  # import comfy_api raises ImportError
    if samplers is None:
        mods["comfy"] = None
    else:
        comfy = types.ModuleType("comfy")
        comfy.__path__ = []
        comfy.samplers = samplers
        mods |= {"comfy": comfy, "comfy.samplers": samplers}
    return mods


def _load_pack() -> types.ModuleType:
    """As ComfyUI's ``load_custom_node``: the folder's ``__init__.py`` under the folder's name."""
    name = str(PACK).replace(".", "_x_")
    spec = importlib.util.spec_from_file_location(name, PACK / "__init__.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _v3_classes(pack: types.ModuleType) -> dict[str, Any]:
    assert not hasattr(pack, "NODE_CLASS_MAPPINGS")  # else ComfyUI would take the V1 nodes

    async def go() -> list[type]:
        ext = await pack.comfy_entrypoint()
        assert isinstance(ext, _ComfyExtension)
        await ext.on_load()
        return await ext.get_node_list()

    return {c.GET_SCHEMA().node_id: c for c in asyncio.run(go())}


@pytest.fixture
def v3():
    samplers = _fake_samplers()
    with patch.dict("sys.modules", _modules(v3=True, samplers=samplers)):
        pack = _load_pack()
        yield pack, _v3_classes(pack), samplers


def _check_sigmas(t: Any, steps: int) -> None:
    assert isinstance(t, torch.Tensor) and t.dtype == torch.float32 and t.ndim == 1
    assert t.shape[0] == steps + 1 and float(t[-1]) == 0.0
    assert bool(torch.all(torch.diff(t) < 0))


# -- V3 -------------------------------------------------------------------------------------------


def test_v3_schemas(v3):
    _, nodes, _ = v3
    assert set(nodes) == NODE_IDS
    schema = nodes["SymschedOptimalSigmas"].define_schema()
    assert schema.category == "sampling/custom_sampling/schedulers"
    ins = {i.id: i for i in schema.inputs}
    assert ins["steps"].io_type == "INT" and ins["steps"].min == 1
    assert ins["sampler"].io_type == "COMBO" and "dpmpp-2m" in ins["sampler"].options
    assert "exact-flow" not in ins["sampler"].options
    assert ins["flow"].io_type == "BOOLEAN" and ins["eigenvalues"].optional
    assert [o.io_type for o in schema.outputs] == ["SIGMAS", "STRING"]
    method = nodes["SymschedMethodSigmas"].define_schema()
    combo = next(i for i in method.inputs if i.id == "method")
    assert combo.options == sorted(symsched.schedules.METHODS)
    stein = {i.id: i.io_type for i in nodes["SymschedSteinSigmas"].define_schema().inputs}
    assert stein["model"] == "MODEL" and stein["latent"] == "LATENT"
    assert stein["positive"] == "CONDITIONING"
    score = nodes["SymschedScoreSigmas"].define_schema()
    assert score.inputs[0].io_type == "SIGMAS"
    assert [o.io_type for o in score.outputs] == ["STRING", "FLOAT"]


def test_v3_optimal_equals_symsched(v3):
    _, nodes, _ = v3
    out = nodes["SymschedOptimalSigmas"].execute(
        steps=10,
        sampler="dpmpp-2m",
        spectrum="sd15",
        family_range=True,
        sigma_min=0.0,
        sigma_max=0.0,
        objective="recommended",
        flow=False,
    )
    t = out[0]
    _check_sigmas(t, 10)
    rec = symsched.recommend.recommend("sd15", "dpmpp-2m", 10)
    want = next(c for c in rec.alternatives if c.method == "sampler-optimal").sigmas
    np.testing.assert_array_equal(t.numpy(), np.asarray(want, dtype=np.float32))
    assert "sampler-optimal: 10 steps" in out[1]


def test_v3_optimal_computed_on_custom_spectrum(v3):
    _, nodes, _ = v3
    out = nodes["SymschedOptimalSigmas"].execute(
        steps=5,
        sampler="ddim",
        spectrum="custom",
        family_range=True,
        sigma_min=0.002,
        sigma_max=80.0,
        objective="coupling",
        flow=False,
        eigenvalues="0.1, 1, 2, 5",
    )
    _check_sigmas(out[0], 5)
    from symsched.gaussian.sampler_optimum import sampler_optimal

    want = sampler_optimal(
        [0.1, 1, 2, 5], 5, 0.002, 80.0, sampler="ddim", objective="coupling", final_zero=True
    ).sigmas
    np.testing.assert_allclose(out[0].numpy(), want, rtol=1e-6)


def test_v3_method_equals_build(v3):
    _, nodes, _ = v3
    out = nodes["SymschedMethodSigmas"].execute(
        method="karras",
        steps=8,
        options='{"rho": 5}',
        set_range=True,
        sigma_min=0.03,
        sigma_max=14.6,
        spectrum="sdxl",
        flow=False,
    )
    _check_sigmas(out[0], 8)
    want = symsched.build("karras", 8, rho=5, sigma_min=0.03, sigma_max=14.6).ending_at_zero
    np.testing.assert_array_equal(out[0].numpy(), want.sigmas.astype(np.float32))


def test_flow_switch_outputs_flow_times(v3):
    _, nodes, _ = v3
    out = nodes["SymschedOptimalSigmas"].execute(
        steps=5,
        sampler="ddim",
        spectrum="flow",
        family_range=True,
        sigma_min=0.0,
        sigma_max=0.0,
        objective="recommended",
        flow=True,
    )
    t = out[0]
    _check_sigmas(t, 5)
    assert float(t[0]) == 1.0 and float(t.max()) <= 1.0  # pure noise is t = 1
    levels = api.levels_from_sigmas(t.double(), flow=True)
    assert math.isinf(levels[0]) and levels[-1] == 0.0
    with pytest.raises(ValueError, match="pure noise"):  # the flow grid without the switch
        nodes["SymschedOptimalSigmas"].execute(
            steps=5,
            sampler="ddim",
            spectrum="flow",
            family_range=True,
            sigma_min=0.0,
            sigma_max=0.0,
            objective="recommended",
            flow=False,
        )


def test_score_node_equals_score_grid(v3):
    _, nodes, _ = v3
    sig = symsched.build("karras", 6, sigma_min=0.03, sigma_max=14.6).ending_at_zero.sigmas
    t = torch.tensor(sig, dtype=torch.float32)
    out = nodes["SymschedScoreSigmas"].execute(
        sigmas=t, spectrum="edm", samplers="ddim,heun", flow=False, optimum=False
    )
    report, kl = out[0], out[1]
    lam = symsched.reference.proxy_spectrum(symsched.recommend._family("edm"))
    want = score_grid(lam, t.double().numpy(), ["ddim", "heun"], optimum=False)
    assert kl == pytest.approx(want[0].criteria.kl_source_output, rel=1e-12)
    for sc in want:
        c = sc.criteria
        assert f"{c.kl_source_output:11.4g}" in report and f"{c.coupling:11.4g}" in report
    rep = api.score_sigmas(t, "edm", ["heun"])
    assert rep.scores[0].criteria == want[1].criteria


@pytest.mark.parametrize(
    ("node", "kwargs", "match"),
    [
        ("SymschedMethodSigmas", {"method": "nope"}, "unknown method"),
        ("SymschedMethodSigmas", {"options": "{rho: 7"}, "JSON object"),
        ("SymschedMethodSigmas", {"options": "[7]"}, "JSON object"),
        ("SymschedMethodSigmas", {"options": '{"nope": 1}'}, "nope"),
        ("SymschedScoreSigmas", {"sigmas": torch.tensor([1.0, 2.0, 0.0])}, "decreasing"),
        ("SymschedScoreSigmas", {"samplers": "euler"}, "sampler must be among"),
        ("SymschedScoreSigmas", {"spectrum": "custom", "eigenvalues": ""}, "eigenvalues"),
    ],
)
def test_bad_inputs_raise(v3, node, kwargs, match):
    _, nodes, _ = v3
    base = {
        "SymschedMethodSigmas": {
            "method": "karras",
            "steps": 5,
            "options": "{}",
            "set_range": False,
            "sigma_min": 0.03,
            "sigma_max": 14.6,
            "spectrum": "sdxl",
            "flow": False,
        },
        "SymschedScoreSigmas": {
            "sigmas": torch.tensor([14.6, 1.0, 0.0]),
            "spectrum": "edm",
            "samplers": "",
            "flow": False,
            "optimum": False,
        },
    }[node]
    with pytest.raises(ValueError, match=match):
        nodes[node].execute(**(base | kwargs))


# -- Stein ----------------------------------------------------------------------------------------

LAM = np.array([0.05, 0.2, 0.5, 1.0, 2.0, 4.0])
SHAPE = (1, 2, 3)


def _gaussian_denoiser(x: Any, sigma: Any) -> Any:
    lt = torch.tensor(LAM, dtype=x.dtype).reshape(SHAPE)
    s = sigma.reshape(-1, 1, 1, 1)
    return lt / (lt + s**2) * x


def _data(n: int = 4096) -> Any:
    g = torch.Generator().manual_seed(0)
    return (
        torch.randn(n, *SHAPE, generator=g, dtype=torch.float64)
        * torch.tensor(LAM).reshape(SHAPE).sqrt()
    )


def test_stein_sigmas_matches_the_closed_form():
    """A Gaussian denoiser's Monte Carlo Stein grid is the exact (closed-form) one, to 2 %."""
    got = api.stein_sigmas(
        _gaussian_denoiser, SHAPE, 6, data=_data(), sigma_min=0.01, sigma_max=20.0, samples=64
    )
    exact = stein_schedule(GaussianModel(LAM), 5, sigma_min=0.01, sigma_max=20.0, estimator="exact")
    want = np.append(exact.schedule.sigmas, 0.0)
    assert got.levels.size == 7 and got.levels[-1] == 0.0
    np.testing.assert_allclose(got.levels, want, rtol=0.02)

    # the same denoiser in flow time gives the same grid, as flow times
    def flow_denoiser(x: Any, t: Any) -> Any:
        tt = t.reshape(-1, 1, 1, 1)
        return _gaussian_denoiser(x / (1 - tt), t / (1 - t))

    fl = api.stein_sigmas(
        flow_denoiser,
        SHAPE,
        6,
        data=_data(),
        sigma_min=0.01 / 1.01,
        sigma_max=20 / 21,
        flow=True,
        samples=64,
    )
    np.testing.assert_allclose(fl.levels, got.levels, rtol=1e-9)
    np.testing.assert_allclose(fl.values, got.levels / (1 + got.levels), rtol=1e-12)


def test_stein_node_runs_inside_a_comfy_sampler(v3):
    _, nodes, _ = v3
    calls: dict[str, Any] = {}

    class ModelK:  # KSamplerX0Inpaint: model_k(x, sigma, denoise_mask, model_options, seed)
        latent_image = _data(2048).float()

        def __call__(self, x, sigma, denoise_mask=None, model_options={}, seed=None):  # noqa: B006
            assert x.dtype == torch.float32
            return _gaussian_denoiser(x, sigma)

    def sample_custom(
        model,
        noise,
        cfg,
        sampler,
        sigmas,
        positive,
        negative,
        latent_image,
        noise_mask=None,
        callback=None,
        disable_pbar=False,
        seed=None,
    ):
        calls["cfg"], calls["positive"] = cfg, positive
        extra = {"denoise_mask": None, "model_options": {}, "seed": seed}
        return sampler.sampler_function(
            ModelK(), noise, sigmas, extra_args=extra, callback=None, disable=True
        )

    sample = types.ModuleType("comfy.sample")
    sample.sample_custom = sample_custom
    sys.modules["comfy"].sample = sample
    ms = types.SimpleNamespace(sigma_min=torch.tensor(0.01), sigma_max=torch.tensor(20.0))
    model = types.SimpleNamespace(get_model_object=lambda name: ms)
    with patch.dict("sys.modules", {"comfy.sample": sample}):
        out = nodes["SymschedSteinSigmas"].execute(
            model=model,
            positive=[["pos"]],
            negative=[["neg"]],
            latent={"samples": ModelK.latent_image},
            steps=6,
            cfg=1.0,
            sigma_min=0.0,
            sigma_max=0.0,
            flow=False,
            estimator="monte-carlo",
            samples=64,
            probe_levels=0,
            seed=0,
        )
    _check_sigmas(out[0], 6)
    assert calls == {"cfg": 1.0, "positive": [["pos"]]}
    exact = stein_schedule(GaussianModel(LAM), 5, sigma_min=0.01, sigma_max=20.0, estimator="exact")
    np.testing.assert_allclose(out[0].double().numpy()[:-1], exact.schedule.sigmas, rtol=0.03)


# -- V1 fallback ----------------------------------------------------------------------------------


def test_v1_fallback_without_comfy_api():
    with patch.dict("sys.modules", _modules(v3=False, samplers=None)):
        pack = _load_pack()
    mapping = pack.NODE_CLASS_MAPPINGS
    assert set(mapping) == NODE_IDS == set(pack.NODE_DISPLAY_NAME_MAPPINGS)
    for name, cls in mapping.items():
        types_ = cls.INPUT_TYPES()
        assert set(types_) <= {"required", "optional"} and types_["required"], name
        for spec in [*types_["required"].values(), *types_.get("optional", {}).values()]:
            assert isinstance(spec, tuple) and len(spec) in (1, 2)
            assert isinstance(spec[0], (str, list))
            if len(spec) == 2:
                assert isinstance(spec[1], dict)
        assert callable(getattr(cls, cls.FUNCTION))
        assert len(cls.RETURN_TYPES) == len(cls.RETURN_NAMES)
    opt = mapping["SymschedOptimalSigmas"]
    req = opt.INPUT_TYPES()["required"]
    assert req["steps"][0] == "INT" and req["steps"][1]["min"] == 1
    assert "ddim" in req["sampler"][0] and req["sigma_max"][1]["round"] is False
    assert opt.RETURN_TYPES == ("SIGMAS", "STRING")
    kwargs = {k: v[1]["default"] for k, v in req.items()}
    res = getattr(opt(), opt.FUNCTION)(**(kwargs | {"spectrum": "sd15", "steps": 5}))
    assert isinstance(res, tuple) and len(res) == 2
    _check_sigmas(res[0], 5)


# -- the KSampler scheduler list ------------------------------------------------------------------


def test_register_schedulers_in_place(v3):
    pack, _, samplers = v3
    handlers = samplers.SCHEDULER_HANDLERS
    names, ks = samplers.SCHEDULER_NAMES, samplers.KSampler.SCHEDULERS
    # the import registered them already (comfy.samplers importable): the same objects grew
    assert samplers.SCHEDULER_NAMES is names and samplers.KSampler.SCHEDULERS is ks
    for name in pack.SCHEDULER_ENTRIES:
        assert name in handlers and names.count(name) == 1 and ks.count(name) == 1
        assert handlers[name].use_ms is False
    assert names[0] == "karras"  # appended, not replaced
    before = (dict(handlers), list(names), list(ks))
    assert pack.register_schedulers(samplers) == []  # idempotent
    assert (dict(handlers), list(names), list(ks)) == before
    assert samplers.SCHEDULER_HANDLERS is handlers
    # called as ComfyUI's calculate_sigmas calls a use_ms=False handler
    h = handlers["symsched_dpmpp_2m"]
    t = h.handler(n=10, sigma_min=0.0292, sigma_max=14.6146)
    _check_sigmas(t, 10)
    want = api.optimal_sigmas(10, "dpmpp-2m", spectrum="sd15").values
    np.testing.assert_array_equal(t.numpy(), want.astype(np.float32))


def test_register_schedulers_refuses_old_comfyui(caplog):
    old = _fake_samplers(with_handlers=False)
    with patch.dict("sys.modules", _modules(v3=False, samplers=old)):
        pack = _load_pack()
        names = old.SCHEDULER_NAMES
        assert pack.register_schedulers(old) == []
    assert old.SCHEDULER_NAMES is names and names == ["normal", "karras"]
    assert old.KSampler.SCHEDULERS == ["normal", "karras"]
    assert "left unchanged" in caplog.text


def test_register_schedulers_env_switch(monkeypatch):
    monkeypatch.setenv("SYMSCHED_COMFYUI_SCHEDULERS", "0")
    samplers = _fake_samplers()
    with patch.dict("sys.modules", _modules(v3=True, samplers=samplers)):
        _load_pack()
    assert samplers.SCHEDULER_NAMES == ["karras"]
