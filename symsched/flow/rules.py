r"""The shift rules the tools publish, as functions of the image resolution and the step count.

A flow model sampled on N uniform flow steps :math:`t_k=1-k/N` shifted by :math:`s` visits the
noise levels :math:`\rho_k=s(N-k)/k` (:func:`symsched.flow.shift.shifted_uniform_grid`); SD3's
shift :math:`t'=st/(1+(s-1)t)` is :math:`\rho'=s\rho` and the exponential time shift of dynamic
shifting with exponent 1, :math:`t'=e^\mu/(e^\mu+1/t-1)`, is the same map with :math:`s=e^\mu`
(:func:`symsched.flow.derive.linear_shift_rho`, :func:`symsched.flow.derive.exponential_shift_rho`;
docs/theory/flow.md#shifts). A *rule* says which :math:`s` a tool uses for a square image of
:math:`R\times R` pixels sampled in N steps. :data:`RULES` holds the four compared in
docs/theory/flow_resolution.md#the-rules:

``sd3``
    The fixed shift 3.0 of SD3 / SD3.5: the value [esser2024, §5.3.2] chose by a human preference
    study at :math:`1024^2` and used in training and sampling there, the ``shift`` of ComfyUI's
    SD3 model config (``comfy/supported_models.py``) and the default of its ``ModelSamplingSD3``
    node (``comfy_extras/nodes_model_advanced.py``) [comfyui].
``sd3-resolution``
    The resolution-dependent shift of [esser2024, §5.3.2, Eq. (23)]: a timestep at :math:`n`
    pixels maps to one at :math:`m` pixels with the same uncertainty about a constant image when
    the noise level is multiplied by :math:`\alpha=\sqrt{m/n}`, i.e. :math:`\alpha\propto R` for
    square images. The paper fixes no base resolution for the rule; it anchors the value at
    :math:`1024^2` by preference (:math:`\alpha=3`), so the rule is
    :math:`s=3R/1024` (:class:`ResolutionShift`). Taken literally from the 256² pretraining
    resolution of [esser2024, §5.3.3] the same formula would give 4 at 1024², a factor 4/3 above
    the value the paper uses.
``flux``
    Flux.1's dynamic shift [diffusers, ``pipelines/flux/pipeline_flux.py``, ``calculate_shift``]:
    :math:`\mu` linear in the image sequence length :math:`n_{\rm seq}`, from 0.5 at 256 tokens to
    1.15 at 4096 tokens (extrapolated linearly outside), :math:`s=e^\mu`. The sequence length is
    that of ``prepare_latents``: the latent side :math:`2\lfloor R/16\rfloor` (VAE factor 8,
    rounded to even) packed into 2 x 2 patches, :math:`n_{\rm seq}=\lfloor R/16\rfloor^2`
    (:func:`image_seq_len`). ComfyUI's ``ModelSamplingFlux`` node computes the same
    :math:`\mu` from ``width * height / (8 * 8 * 2 * 2)``.
``flux2``
    Flux.2's empirical shift [diffusers, ``pipelines/flux2/pipeline_flux2.py``,
    ``compute_empirical_mu``, taken there from Black Forest Labs' ``flux2`` sampling code]: two
    fitted lines :math:`\mu_{10}=a_1n_{\rm seq}+b_1` (N = 10) and
    :math:`\mu_{200}=a_2n_{\rm seq}+b_2` (N = 200), :math:`\mu` linear in N through them, except
    above 4300 tokens where :math:`\mu=\mu_{200}` at every N. Its sequence length is formed as
    Flux.1's (latent side :math:`2\lfloor R/16\rfloor`, 2 x 2 patchified, then flattened).

Every rule is checked against the installed diffusers functions by the claim ``flow.rule-
definitions`` (docs/theory/flow_resolution.md#the-rules). Only the shift is taken from each tool:
the SD3 pipeline's default grid is not the uniform one (its scheduler spaces N levels from 1 to its
smallest training level, about 0.003 before the shift, then appends 0), while the Flux pipelines
pass :math:`t_k=1-k/N`; the comparison of :mod:`symsched.flow.resolution` puts every shift on the
uniform grid, so that the shift alone differs.

References
----------
.. [esser2024] P. Esser et al., "Scaling Rectified Flow Transformers for High-Resolution Image
   Synthesis", ICML 2024, arXiv:2403.03206, §5.3.2 (Eq. (23), the shift 3.0 at 1024²) and §5.3.3
   (pretraining at 256²).
.. [diffusers] Hugging Face diffusers 0.42.1: ``pipelines/flux/pipeline_flux.py``
   (``calculate_shift``, ``prepare_latents``, ``_pack_latents``) and
   ``pipelines/flux2/pipeline_flux2.py`` (``compute_empirical_mu``, ``prepare_latents``).
.. [comfyui] ComfyUI: ``comfy_extras/nodes_model_advanced.py`` (``ModelSamplingSD3``,
   ``ModelSamplingFlux``) and ``comfy/supported_models.py`` (``SD3.sampling_settings``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from symsched._validate import check_positive, check_steps

__all__ = [
    "RULES",
    "EmpiricalMuShift",
    "FixedShift",
    "LinearMuShift",
    "ResolutionShift",
    "ShiftRule",
    "image_seq_len",
]

PATCH_PIXELS = 16
"""Image pixels per side of one Flux token: the VAE's factor 8 times the 2 x 2 packing."""


def image_seq_len(height: int, width: int | None = None) -> int:
    r"""The image sequence length of Flux.1 / Flux.2 for an image of ``height`` x ``width`` pixels.

    Both pipelines round the latent grid to an even side, :math:`2\lfloor H/16\rfloor`, and pack
    it into 2 x 2 patches, so the sequence holds :math:`\lfloor H/16\rfloor\lfloor W/16\rfloor`
    tokens (``prepare_latents`` of ``pipeline_flux.py`` and ``pipeline_flux2.py``).

    Parameters
    ----------
    height, width
        Pixels (``width`` defaults to ``height``: a square image).

    Returns
    -------
    int
    """
    h = check_steps(height, "height")
    w = h if width is None else check_steps(width, "width")
    return (h // PATCH_PIXELS) * (w // PATCH_PIXELS)


@runtime_checkable
class ShiftRule(Protocol):
    """A published shift rule: the shift of a square ``resolution`` x ``resolution`` image sampled
    in ``steps`` uniform flow steps.

    Attributes
    ----------
    name
        The key in :data:`RULES`.
    publishes_mu
        Whether the tool publishes :math:`\\mu` (an exponential time shift, :math:`s=e^\\mu`)
        rather than :math:`s` itself.
    source
        Where the definition comes from.
    """

    @property
    def name(self) -> str: ...

    @property
    def publishes_mu(self) -> bool: ...

    @property
    def source(self) -> str: ...

    def shift(self, resolution: int, steps: int) -> float:
        """The shift :math:`s>0`."""
        ...

    def mu(self, resolution: int, steps: int) -> float:
        """:math:`\\mu=\\ln s`."""
        ...


@dataclass(frozen=True)
class FixedShift:
    """One shift at every resolution and step count (SD3's ``shift: 3.0``).

    Attributes
    ----------
    name
        The registry key.
    value
        The shift.
    source
        Where it is stated.
    """

    name: str
    value: float
    source: str
    publishes_mu: bool = False

    def shift(self, resolution: int, steps: int) -> float:
        """``value`` (the arguments are checked, not used)."""
        check_steps(resolution, "resolution")
        check_steps(steps)
        return check_positive(self.value, "shift")

    def mu(self, resolution: int, steps: int) -> float:
        """``ln value``."""
        return math.log(self.shift(resolution, steps))


@dataclass(frozen=True)
class ResolutionShift:
    r"""A shift proportional to the image side: :math:`s=s_0R/R_0` [esser2024, §5.3.2, Eq. (23)].

    Eq. (23) multiplies the noise level by :math:`\sqrt{m/n}` between images of :math:`n` and
    :math:`m` pixels, which is :math:`R/R_0` for square images of sides :math:`R_0` and :math:`R`;
    the anchor :math:`(R_0, s_0)` is where the shift was chosen.

    Attributes
    ----------
    name
        The registry key.
    base_resolution, base_shift
        The anchor :math:`R_0` (pixels) and :math:`s_0`.
    source
        Where it is stated.
    """

    name: str
    base_resolution: int
    base_shift: float
    source: str
    publishes_mu: bool = False

    def shift(self, resolution: int, steps: int) -> float:
        """:math:`s_0R/R_0` (``steps`` is checked, not used)."""
        r = check_steps(resolution, "resolution")
        check_steps(steps)
        return check_positive(self.base_shift, "base_shift") * r / self.base_resolution

    def mu(self, resolution: int, steps: int) -> float:
        """:math:`\\ln(s_0R/R_0)`."""
        return math.log(self.shift(resolution, steps))


@dataclass(frozen=True)
class LinearMuShift:
    r""":math:`\mu` linear in the image sequence length through two anchors (Flux.1).

    :math:`\mu=\mu_0+(\mu_1-\mu_0)(n_{\rm seq}-n_0)/(n_1-n_0)` with
    :math:`n_{\rm seq}` from :func:`image_seq_len`, extrapolated on both sides (diffusers does not
    clip it), and :math:`s=e^\mu`.

    Attributes
    ----------
    name
        The registry key.
    base_seq_len, max_seq_len
        :math:`n_0, n_1` (tokens).
    base_mu, max_mu
        :math:`\mu_0, \mu_1` (diffusers' ``base_shift``, ``max_shift``: values of :math:`\mu`).
    source
        Where it is stated.
    """

    name: str
    base_seq_len: int
    max_seq_len: int
    base_mu: float
    max_mu: float
    source: str
    publishes_mu: bool = True

    def mu(self, resolution: int, steps: int) -> float:
        """:math:`\\mu` at the sequence length of a square image (``steps`` is not used)."""
        check_steps(steps)
        n = image_seq_len(resolution)
        slope = (self.max_mu - self.base_mu) / (self.max_seq_len - self.base_seq_len)
        return self.base_mu + slope * (n - self.base_seq_len)

    def shift(self, resolution: int, steps: int) -> float:
        """:math:`e^\\mu`."""
        return math.exp(self.mu(resolution, steps))


@dataclass(frozen=True)
class EmpiricalMuShift:
    r""":math:`\mu` fitted in the sequence length at two step counts, interpolated in N (Flux.2).

    With :math:`\mu_{\rm lo}=a_{\rm lo}n_{\rm seq}+b_{\rm lo}` fitted at :math:`N_{\rm lo}` and
    :math:`\mu_{\rm hi}=a_{\rm hi}n_{\rm seq}+b_{\rm hi}` at :math:`N_{\rm hi}`:
    :math:`\mu=\mu_{\rm hi}` when :math:`n_{\rm seq}>n_{\rm cut}`, otherwise the line in N through
    both, :math:`\mu=\mu_{\rm lo}+(\mu_{\rm hi}-\mu_{\rm lo})(N-N_{\rm lo})/(N_{\rm hi}-N_{\rm lo})`
    (extrapolated outside :math:`[N_{\rm lo},N_{\rm hi}]`); :math:`s=e^\mu`.

    Attributes
    ----------
    name
        The registry key.
    low_steps, low_slope, low_intercept
        :math:`N_{\rm lo}, a_{\rm lo}, b_{\rm lo}`.
    high_steps, high_slope, high_intercept
        :math:`N_{\rm hi}, a_{\rm hi}, b_{\rm hi}`.
    cutoff_seq_len
        :math:`n_{\rm cut}`: above it the high-N line alone.
    source
        Where it is stated.
    """

    name: str
    low_steps: int
    low_slope: float
    low_intercept: float
    high_steps: int
    high_slope: float
    high_intercept: float
    cutoff_seq_len: int
    source: str
    publishes_mu: bool = True

    def mu(self, resolution: int, steps: int) -> float:
        """:math:`\\mu` at the sequence length of a square image and N steps."""
        n_steps = check_steps(steps)
        n = image_seq_len(resolution)
        high = self.high_slope * n + self.high_intercept
        if n > self.cutoff_seq_len:
            return high
        low = self.low_slope * n + self.low_intercept
        frac = (n_steps - self.low_steps) / (self.high_steps - self.low_steps)
        return low + (high - low) * frac

    def shift(self, resolution: int, steps: int) -> float:
        """:math:`e^\\mu`."""
        return math.exp(self.mu(resolution, steps))


_DIFFUSERS_FLUX = "diffusers 0.42.1 pipelines/flux/pipeline_flux.py, calculate_shift"
_DIFFUSERS_FLUX2 = "diffusers 0.42.1 pipelines/flux2/pipeline_flux2.py, compute_empirical_mu"

RULES: dict[str, ShiftRule] = {
    "sd3": FixedShift(
        "sd3",
        3.0,
        "Esser et al. arXiv 2403.03206 §5.3.2 (shift 3.0 at 1024^2); ComfyUI SD3 sampling_settings "
        "and ModelSamplingSD3 default",
    ),
    "sd3-resolution": ResolutionShift(
        "sd3-resolution",
        1024,
        3.0,
        "Esser et al. arXiv 2403.03206 §5.3.2, Eq. (23): alpha = sqrt(m/n), anchored at 3.0 at "
        "1024^2",
    ),
    "flux": LinearMuShift("flux", 256, 4096, 0.5, 1.15, _DIFFUSERS_FLUX),
    "flux2": EmpiricalMuShift(
        "flux2",
        10,
        8.73809524e-05,
        1.89833333,
        200,
        0.00016927,
        0.45666666,
        4300,
        _DIFFUSERS_FLUX2,
    ),
}
"""The published rules by name (definitions and sources: the module docstring)."""
