"""The dimension check and the noise scale c of the interpolant I = c (1 - tau) z + tau a
[aranguri2025, §2.1] (docs/theory/highdim.md): c = 1 for VP, sqrt(d) for VE."""

from __future__ import annotations

import math

import pytest

from symsched.highdim.gm import GaussianMixture, check_dim, noise_scale


@pytest.mark.parametrize("d", [1, 2, 10**8])
def test_every_dimension_from_one_is_accepted(d: int) -> None:
    assert check_dim(d) == d
    assert GaussianMixture(dim=d).dim == d


@pytest.mark.parametrize("d", [0, -3])
def test_a_dimension_below_one_is_refused(d: int) -> None:
    with pytest.raises(ValueError, match=">= 1"):
        check_dim(d)


@pytest.mark.parametrize("d", [1, 4, 10**6])
def test_the_noise_scale_is_one_for_vp_and_sqrt_d_for_ve(d: int) -> None:
    assert noise_scale("vp", d) == 1.0
    assert noise_scale("ve", d) == math.sqrt(d)
