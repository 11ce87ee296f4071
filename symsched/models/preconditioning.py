r"""EDM preconditioning of a denoiser network [karras2022, Eq. (7) and Table 1].

The denoiser is :math:`D(x,\sigma)=c_\text{skip}(\sigma)\,x+c_\text{out}(\sigma)\,
F_\theta(c_\text{in}(\sigma)\,x,\;c_\text{noise}(\sigma))` with

.. math::
   c_\text{skip}=\frac{\sigma_d^2}{\sigma^2+\sigma_d^2},\quad
   c_\text{out}=\frac{\sigma\,\sigma_d}{\sqrt{\sigma^2+\sigma_d^2}},\quad
   c_\text{in}=\frac{1}{\sqrt{\sigma^2+\sigma_d^2}},\quad
   c_\text{noise}=\tfrac14\ln\sigma .

This module is the one place these coefficients are written: the trained denoisers
(:class:`symsched.models.trained.EDMDenoiser`) and their training loop (:mod:`symsched.train`)
both call :func:`edm_preconditioning`, and both feed :math:`c_\text{noise}` to the network through
:func:`fourier_features`.

References
----------
.. [karras2022] T. Karras, M. Aittala, T. Aila, S. Laine, "Elucidating the Design Space of
   Diffusion-Based Generative Models", NeurIPS 2022, arXiv:2206.00364, Eq. (7), Table 1.
"""

from __future__ import annotations

from typing import NamedTuple

from symsched._typing import TorchTensor

__all__ = ["EDMPreconditioning", "edm_preconditioning", "fourier_features"]


class EDMPreconditioning(NamedTuple):
    """The four EDM coefficients, each a ``(batch, 1)`` column [karras2022, Table 1].

    Attributes
    ----------
    c_skip, c_out, c_in, c_noise
        :math:`D = c_\\text{skip}x + c_\\text{out}F(c_\\text{in}x, c_\\text{noise})`.
    """

    c_skip: TorchTensor
    c_out: TorchTensor
    c_in: TorchTensor
    c_noise: TorchTensor


def edm_preconditioning(sigma: TorchTensor, sigma_data: float) -> EDMPreconditioning:
    r"""EDM's :math:`c_\text{skip}, c_\text{out}, c_\text{in}, c_\text{noise}` at levels ``sigma``.

    [karras2022, Eq. (7) and Table 1]: :math:`c_\text{skip}=\sigma_d^2/(\sigma^2+\sigma_d^2)`,
    :math:`c_\text{out}=\sigma\sigma_d/\sqrt{\sigma^2+\sigma_d^2}`,
    :math:`c_\text{in}=1/\sqrt{\sigma^2+\sigma_d^2}`, :math:`c_\text{noise}=\tfrac14\ln\sigma`.

    Parameters
    ----------
    sigma
        Noise levels, a 1-D torch tensor ``(batch,)`` of positive values (any floating dtype; the
        coefficients have the same dtype and device).
    sigma_data
        Standard deviation :math:`\sigma_d` of the training data.

    Returns
    -------
    EDMPreconditioning
        The coefficients as ``(batch, 1)`` columns, ready to broadcast against ``(batch, dim)``
        states.
    """
    import torch

    s = sigma[:, None]
    c_skip = sigma_data**2 / (s**2 + sigma_data**2)
    c_out = s * sigma_data / torch.sqrt(s**2 + sigma_data**2)
    c_in = 1 / torch.sqrt(s**2 + sigma_data**2)
    c_noise = torch.log(sigma)[:, None] / 4
    return EDMPreconditioning(c_skip, c_out, c_in, c_noise)


def fourier_features(c_noise: TorchTensor, freqs: TorchTensor) -> TorchTensor:
    r"""Sine and cosine features of the noise conditioning: ``[sin(c f), cos(c f)]``.

    Parameters
    ----------
    c_noise
        :math:`c_\text{noise}` as a ``(batch, 1)`` column (:func:`edm_preconditioning`).
    freqs
        The ``n_freq`` frequencies ``f`` (1-D, same dtype as ``c_noise``).

    Returns
    -------
    TorchTensor
        ``(batch, 2 n_freq)``: the sines, then the cosines.
    """
    import torch

    ang = c_noise * freqs
    return torch.cat([torch.sin(ang), torch.cos(ang)], dim=1)
