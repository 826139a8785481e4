"""How projections are shown: contrast normalisation and the overlay on the image."""

from __future__ import annotations

import numpy as np
import torch

from zfcuda.figures import projections as viz


def test_projection_overlay_shows_the_image_where_the_projection_is_zero():
    image = np.full((6, 6, 3), 200, dtype=np.uint8)
    image[:, :, 0] = 40
    projection = torch.zeros(3, 6, 6)
    projection[:, 2, 3] = torch.tensor([1.0, -1.0, 0.5])
    overlay = viz.projection_overlay(image, projection)
    assert overlay.shape == image.shape and overlay.dtype == np.uint8
    grey = image.astype(float).mean(2) * 0.6 + 51
    assert np.allclose(overlay[0, 0], grey[0, 0], atol=1)  # faded grey image, colours gone
    strong = viz.projection_to_rgb(projection)[2, 3].astype(float)
    assert np.allclose(overlay[2, 3], 0.85 * strong + 0.15 * grey[2, 3], atol=1)


def test_projection_display_normalisation():
    p = torch.zeros(3, 4, 4)
    p[0, 1, 1], p[1, 2, 2] = 2.0, -1.0
    rgb = viz.projection_to_rgb(p, percentile=100)
    assert rgb[0, 0].tolist() == [128, 128, 128] and rgb[1, 1, 0] == 255 and rgb[2, 2, 1] == 64
    # With the default percentile a single outlier is clipped instead of greying out the rest.
    q = torch.linspace(-1, 1, 300).view(3, 10, 10)
    q[0, 0, 0] = 100.0
    rgb = viz.projection_to_rgb(q)
    assert rgb[0, 0, 0] == 255 and rgb[9, 9, 2] > 250 and rgb[0, 1, 0] < 5
