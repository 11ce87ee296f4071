"""The reference set's Gaussian proxies are named, stated and never silently shared
(docs/conventions.md#reference-schedules)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from symsched.reference import MODELS, ModelFamily, proxy_spectrum
from symsched.spectrum import photographs_spectrum

# what each family's proxy must be, written from the model families' published settings
# (resolution of the model input, data scale), not read from the module
EXPECTED = {
    "edm": (32, 0.25),  # EDM on CIFAR-10 32x32, sigma_data = 0.5
    "sd15": (64, 1.0),  # the 64x64 latent of a 512 px image, unit-variance latents
    "sdxl": (128, 1.0),  # the 128x128 latent of a 1024 px image
    "ddpm": (32, None),  # CIFAR-10 in the [-1, 1] pixel scale
    "flow": (128, 1.0),  # SD3 / Flux latent grid at 1024 px
}
LATENT = ("sd15", "sdxl", "flow")


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.array_equal(a, b))


def _declares_sharing(a: ModelFamily, b: ModelFamily) -> bool:
    for x, y in ((a, b), (b, a)):
        if x.shares_proxy_with == y.name and f"the same proxy as {y.name}" in x.proxy:
            return True
    return False


def test_no_two_models_share_a_proxy_without_saying_so() -> None:
    assert {m.name for m in MODELS} == set(EXPECTED)
    for a, b in itertools.combinations(MODELS, 2):
        same = _same(proxy_spectrum(a), proxy_spectrum(b))
        assert not same or _declares_sharing(a, b), (a.name, b.name)
        # a declared share is true: the arrays are the same
        if a.shares_proxy_with == b.name or b.shares_proxy_with == a.name:
            assert same, (a.name, b.name)


@pytest.mark.parametrize("m", MODELS, ids=[m.name for m in MODELS])
def test_each_proxy_is_the_stated_photographs_spectrum(m: ModelFamily) -> None:
    r, mean = EXPECTED[m.name]
    lam = proxy_spectrum(m)
    assert m.spectrum.resolution == r and m.spectrum.mean_eigenvalue == mean
    assert lam.size == m.spectrum.dimension == 3 * r * r
    assert f"{r}x{r}x3" in m.proxy and f"{r}x{r}x3" in m.spectrum.name
    assert np.all(np.diff(lam) <= 0) and lam.min() > 0
    raw = photographs_spectrum(r, "fourier", radial=True).eigenvalues
    if mean is None:
        assert np.array_equal(lam, raw)
        assert "[-1, 1] pixel scale" in m.proxy
    else:
        assert lam.mean() == pytest.approx(mean, rel=1e-13)
        assert np.allclose(lam / raw, mean / raw.mean(), rtol=1e-13, atol=0)
        assert f"mean eigenvalue {mean:g}" in m.proxy
    if m.name in LATENT:  # the caveat is stated where the proxy is
        assert "pixel-space spectrum" in m.proxy and "not the spectrum of the VAE latent" in m.proxy
    # ring-averaged: few distinct values, which the optimisers group
    assert np.unique(lam).size < lam.size // 40
    lam[0] = -1.0  # a copy: the cached proxy is not changed
    assert proxy_spectrum(m)[0] > 0
