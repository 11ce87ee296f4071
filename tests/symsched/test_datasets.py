"""The shipped data sets: declared dimensions match the rows (docs/theory/stein.md#score-models)."""

from __future__ import annotations

import pytest

from symsched.datasets import DATASETS, DIMENSIONS, dataset_spectrum, split


@pytest.mark.parametrize("name", DATASETS)
def test_declared_dimension_is_the_row_length(name: str) -> None:
    # rank refuses an oversized request from DIMENSIONS before it loads the data set
    assert set(DIMENSIONS) == set(DATASETS)
    assert dataset_spectrum(name).size == DIMENSIONS[name]
    assert split(name, "train").shape[1] == DIMENSIONS[name]
