"""The options that name and parametrise a score model (docs/cli.md#model-specs).

One option set, shared by every command and schedule method that takes ``--model``: the
``stein`` method extends it with its estimator options, ``stein-cost`` adds its step.
"""

from __future__ import annotations

from dataclasses import dataclass

from symsched._options import Spectrum, option
from symsched.models._base import ModelError, ScoreModel
from symsched.models._spec import MODEL_SPECS

__all__ = ["MODEL_SPEC_HELP", "ModelOptions"]

MODEL_SPEC_HELP = (
    f"{', '.join(MODEL_SPECS)}, diffusers:DIR (a local diffusers UNet2DModel and its scheduler) "
    "or a symsched checkpoint directory"
)
"""What ``--model`` accepts, for help texts and error messages."""


@dataclass(frozen=True)
class ModelOptions:
    """A score model spec and its parameters, as :func:`symsched.models.load_model` takes them.

    Notes
    -----
    Every field is one option, declared with :func:`~symsched._options.option`; ``None`` means
    the model's own default.
    """

    model: str | None = option(None, f"score model spec: {MODEL_SPEC_HELP}", metavar="SPEC")
    c: float | None = option(None, "gaussian model: data std c", metavar="C")
    dim: int | None = option(None, "gaussian / gm model: dimension (default 1)", metavar="D")
    eigenvalues: Spectrum | None = option(None, "gaussian model: covariance spectrum")
    p: float | None = option(None, "gm model: weight of the +m mode (default 0.8)", metavar="P")
    m: float | None = option(None, "gm model: mode position (default 1)", metavar="M")
    mode_sigma: float | None = option(None, "gm model: mode std (default 0.5)", metavar="S")
    data: str | None = option(
        None, "diffusers:DIR model: training rows to noise (.npy or .pt)", metavar="FILE"
    )
    device: str = option("cpu", "torch device", metavar="DEV")

    def load(self) -> ScoreModel:
        """The model these options name (:func:`symsched.models.load_model`).

        Raises
        ------
        ModelError
            If no model is named, or the spec or its parameters are refused.
        """
        from symsched.models._spec import load_model

        if self.model is None:
            raise ModelError(f"model is required: a score-model spec ({MODEL_SPEC_HELP})")
        return load_model(
            self.model,
            c=self.c,
            dim=self.dim,
            eigenvalues=self.eigenvalues,
            p=self.p,
            m=self.m,
            mode_sigma=self.mode_sigma,
            data=self.data,
        )
