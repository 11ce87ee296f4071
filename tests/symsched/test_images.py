"""Samples for spectra: .npy arrays, image folders, random patches (docs/cli.md#spectrum)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from symsched.images import (
    PHOTOGRAPH_SHAPE,
    load_image_folder,
    load_npy,
    npy_shape,
    photographs,
    random_patches,
    sample_photographs,
)


def _save(path: Path, pixels: np.ndarray) -> None:
    Image.fromarray(pixels).save(path)


def test_resize_takes_the_centred_square(tmp_path: Path) -> None:
    # a 30 x 90 image: red | green | blue thirds; the centred 30 x 30 square is all green
    img = np.zeros((30, 90, 3), dtype=np.uint8)
    img[:, :30] = (255, 0, 0)
    img[:, 30:60] = (0, 255, 0)
    img[:, 60:] = (0, 0, 255)
    _save(tmp_path / "a.png", img)
    _save(tmp_path / "b.png", np.full((50, 40, 3), (10, 128, 250), dtype=np.uint8))
    (tmp_path / "readme.txt").write_text("not an image")
    x = load_image_folder(tmp_path, 8)
    assert x.shape == (2, 8, 8, 3)
    assert np.array_equal(x[0], np.broadcast_to(np.array([0, 255, 0]) / 127.5 - 1, (8, 8, 3)))
    assert np.array_equal(x[1], np.broadcast_to(np.array([10, 128, 250]) / 127.5 - 1, (8, 8, 3)))


def test_patches_are_random_crops_at_full_resolution(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    raw = [rng.integers(0, 256, size=(20 + i, 25, 3), dtype=np.uint8) for i in range(3)]
    for i, img in enumerate(raw):
        _save(tmp_path / f"{i}.png", img)
    x = load_image_folder(tmp_path, 6, patches=4, seed=11)
    assert x.shape == (12, 6, 6, 3)
    want = random_patches(raw, 6, 4, seed=11) / 127.5 - 1.0
    assert np.array_equal(x, want)
    # every crop is a window of its image (searched for directly)
    for k, crop in enumerate(x):
        img = raw[k // 4].astype(np.float64) / 127.5 - 1.0
        hits = [
            (i, j)
            for i in range(img.shape[0] - 5)
            for j in range(img.shape[1] - 5)
            if np.array_equal(img[i : i + 6, j : j + 6], crop)
        ]
        assert hits
    with pytest.raises(ValueError, match="smaller than 21 x 21"):
        load_image_folder(tmp_path, 21, patches=1)


def test_grey_folders_give_grey_samples_and_mixed_ones_colour(tmp_path: Path) -> None:
    _save(tmp_path / "g.png", np.full((12, 12), 200, dtype=np.uint8))
    assert load_image_folder(tmp_path, 4).shape == (1, 4, 4)
    _save(tmp_path / "c.jpg", np.full((12, 12, 3), 90, dtype=np.uint8))
    x = load_image_folder(tmp_path, 4)
    assert x.shape == (2, 4, 4, 3)
    assert np.array_equal(x[1], np.full((4, 4, 3), 200 / 127.5 - 1))  # g.png, grey as RGB


def test_bad_folders(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="holds no image"):
        load_image_folder(tmp_path, 4)
    (tmp_path / "broken.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match=r"broken\.png: not a readable image"):
        load_image_folder(tmp_path, 4)
    with pytest.raises(ValueError, match="not a directory"):
        load_image_folder(tmp_path / "nope", 4)


def test_npy_header_and_loading(tmp_path: Path) -> None:
    big = np.lib.format.open_memmap(tmp_path / "big.npy", mode="w+", shape=(3, 64, 64, 3))
    del big
    shape, dtype = npy_shape(tmp_path / "big.npy")
    assert shape == (3, 64, 64, 3) and dtype == np.float64
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match=r"not a \.npy array"):
        npy_shape(tmp_path / "obj.npy")
    np.savez(tmp_path / "two.npz", a=np.ones(2), b=np.ones(3))
    with pytest.raises(ValueError, match="npz"):
        npy_shape(tmp_path / "two.npz")
    np.save(tmp_path / "vec.npy", np.ones(4))
    with pytest.raises(ValueError, match="shape"):
        load_npy(tmp_path / "vec.npy")
    np.save(tmp_path / "nan.npy", np.array([[1.0, np.nan], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="NaN"):
        load_npy(tmp_path / "nan.npy")
    np.save(tmp_path / "ints.npy", np.arange(12, dtype=np.uint8).reshape(3, 2, 2))
    x = load_npy(tmp_path / "ints.npy")
    assert x.dtype == np.float64 and x.shape == (3, 2, 2) and x[2, 1, 1] == 11.0


def test_the_photographs() -> None:
    a, b = sample_photographs()
    assert a.shape == b.shape == PHOTOGRAPH_SHAPE
    p = photographs(16, 3)
    assert p.shape == (6, 16, 16, 3)
    with pytest.raises(ValueError, match="resolution must be <= 427"):
        photographs(428, 1)
