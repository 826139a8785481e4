"""zfcuda.occlusion (method="full") against a per-position loop, captum's Occlusion, and bad input."""

from __future__ import annotations

import pytest
import torch

import zfcuda
from tests.helpers.nets import small_classifier
from zfcuda.models import ZFNet


def _slow_occlusion(model, image, positions, patch, fill):
    """One occluded image at a time, made by slicing."""
    probs = []
    for top, left in positions.tolist():
        x = image.clone()
        t, l = max(top, 0), max(left, 0)
        b, r = min(top + patch[0], image.shape[1]), min(left + patch[1], image.shape[2])
        x[:, t:b, l:r] = fill.expand_as(image)[:, t:b, l:r] if fill.dim() == 3 else fill.view(-1, 1, 1)
        probs.append(torch.softmax(model(x[None]), 1)[0])
    return torch.stack(probs)


@pytest.mark.parametrize("grid", ["paper", "captum"])
@pytest.mark.parametrize("fill_kind", ["mean", "number", "channels", "image"])
@pytest.mark.parametrize("size, patch, stride, batch", [((29, 33), (7, 5), 3, 4), ((24, 24), 8, (4, 5), "auto")])
def test_full_equals_a_per_position_loop(grid, fill_kind, size, patch, stride, batch):
    model = small_classifier()
    image = torch.randn(3, *size, dtype=torch.float64)
    fill = {"mean": "mean", "number": 0.25, "channels": [0.1, -0.2, 0.3], "image": torch.randn(3, *size, dtype=torch.float64)}[fill_kind]
    result = zfcuda.occlusion(model, image, patch=patch, stride=stride, fill=fill, batch_size=batch, grid=grid, show_progress=False)
    fill_tensor = image.mean((1, 2)) if fill == "mean" else torch.as_tensor(fill, dtype=torch.float64)
    patch_hw = (patch, patch) if isinstance(patch, int) else patch
    expected = _slow_occlusion(model, image, result.grid.positions, patch_hw, fill_tensor)
    target = int(torch.softmax(model(image[None]), 1)[0].argmax())
    assert result.target == target
    torch.testing.assert_close(result.prob.reshape(-1).double(), expected[:, target], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(result.top_prob.reshape(-1).double(), expected.max(1).values, rtol=1e-5, atol=1e-6)
    assert torch.equal(result.top_class.reshape(-1), expected.argmax(1))
    assert result.prob.shape == result.grid.grid_shape


def test_attribution_equals_captum_occlusion():
    captum_attr = pytest.importorskip("captum.attr")
    model = small_classifier()
    image = torch.randn(3, 30, 26, dtype=torch.float64)
    for patch, stride in [(6, 3), ((5, 7), (2, 4))]:
        patch_hw = (patch, patch) if isinstance(patch, int) else patch
        stride_hw = (stride, stride) if isinstance(stride, int) else stride
        result = zfcuda.occlusion(model, image, target=2, patch=patch, stride=stride, fill=0.5, grid="captum", show_progress=False)

        def probabilities(x):
            return torch.softmax(model(x), 1)

        theirs = captum_attr.Occlusion(probabilities).attribute(
            image[None], sliding_window_shapes=(3, *patch_hw), strides=(3, *stride_hw), baselines=0.5, target=2
        )[0]
        torch.testing.assert_close(result.to_attribution().expand(3, -1, -1), theirs, rtol=1e-5, atol=1e-7, check_dtype=False)


def test_layer_map_activation_and_projection_on_zfnet():
    model = ZFNet(4, width=0.1).eval()
    image = torch.randn(3, 224, 224)
    result = zfcuda.occlusion(model, image, patch=48, stride=48, layer="conv5", show_progress=False)
    deconv = zfcuda.DeconvNet(model)
    clean, _ = deconv.forward(image[None], "conv5")
    assert result.feature_map == int(clean[0].flatten(1).amax(1).argmax())
    # Summed activation of that map, recomputed image by image.
    fill = image.mean((1, 2)).view(3, 1, 1)
    for index, (top, left) in enumerate(result.grid.positions.tolist()[:6]):
        x = image.clone()
        x[:, max(top, 0) : top + 48, max(left, 0) : left + 48] = fill
        expected = deconv.forward(x[None], "conv5")[0][0, result.feature_map].sum()
        torch.testing.assert_close(result.activation.reshape(-1)[index], expected, rtol=1e-4, atol=1e-3)
    assert result.projection.shape == image.shape and result.projection.abs().sum() > 0


def test_probability_outputs_are_used_as_they_are():
    model = small_classifier()
    image = torch.randn(3, 20, 20, dtype=torch.float64)
    from_logits = zfcuda.occlusion(model, image, patch=5, stride=5, show_progress=False)
    from_probs = zfcuda.occlusion(lambda x: torch.softmax(model(x), 1), image, patch=5, stride=5, show_progress=False)
    torch.testing.assert_close(from_logits.prob, from_probs.prob)


def test_model_left_in_its_mode():
    model = small_classifier().train()
    zfcuda.occlusion(model, torch.randn(3, 16, 16, dtype=torch.float64), patch=4, stride=4, show_progress=False)
    assert model.training


def test_bad_input():
    model = small_classifier()
    image = torch.randn(3, 16, 16, dtype=torch.float64)
    with pytest.raises(ValueError, match="patch .* larger than the image"):
        zfcuda.occlusion(model, image, patch=17)
    with pytest.raises(ValueError, match="stride must be a positive int"):
        zfcuda.occlusion(model, image, stride=0)
    with pytest.raises(ValueError, match="image must be a Tensor\\[C, H, W\\]"):
        zfcuda.occlusion(model, torch.randn(16, 16, dtype=torch.float64))
    with pytest.raises(TypeError, match="floating-point"):
        zfcuda.occlusion(model, torch.zeros(3, 16, 16, dtype=torch.uint8))
    with pytest.raises(ValueError, match="model must return Tensor\\[B, num_classes\\]"):
        zfcuda.occlusion(lambda x: x.sum(), image)
    with pytest.raises(ValueError, match="target must be a class index in \\[0, 5\\)"):
        zfcuda.occlusion(model, image, target=5, patch=4)
    with pytest.raises(ValueError, match="method must be one of"):
        zfcuda.occlusion(model, image, method="magic")
    with pytest.raises(ValueError, match="per-channel values"):
        zfcuda.occlusion(model, image, fill=[0.0, 1.0])
    with pytest.raises(ValueError, match="fill must be"):
        zfcuda.occlusion(model, image, fill="grey")
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        zfcuda.occlusion(model, image, patch=4, batch_size=0)


def test_a_batch_is_each_image_on_its_own_with_per_image_targets_and_fills():
    torch.manual_seed(0)
    model = small_classifier().double().eval()
    images = torch.randn(3, 3, 20, 18, dtype=torch.float64)
    fills = torch.randn(3, 3, 20, 18, dtype=torch.float64)
    seen = []
    counting = lambda x: seen.append(x.shape[0]) or model(x)  # noqa: E731
    results = zfcuda.occlusion(counting, images, target=[0, 4, 2], patch=6, stride=3, fill=fills, batch_size=5, show_progress=False)
    assert isinstance(results, list) and len(results) == 3
    for i, result in enumerate(results):
        alone = zfcuda.occlusion(model, images[i], target=[0, 4, 2][i], patch=6, stride=3, fill=fills[i], batch_size=5, show_progress=False)
        assert result.target == alone.target and torch.equal(result.prob, alone.prob)
    # Memory does not grow with the batch: no forward pass holds more than one chunk of one image's windows.
    assert max(seen) == 5
    # One target and one fill for all; the default target is each image's own prediction.
    shared = zfcuda.occlusion(model, images, target=torch.tensor([1]), patch=6, stride=3, fill=0.0, show_progress=False)
    assert [r.target for r in shared] == [1, 1, 1]
    predicted = zfcuda.occlusion(model, images[:2], patch=6, stride=3, show_progress=False)
    assert [r.target for r in predicted] == model(images[:2]).argmax(1).tolist()
    assert len(zfcuda.occlusion(model, images[:1], patch=6, stride=3, show_progress=False)) == 1


def test_batch_arguments_must_match_the_batch():
    model = small_classifier().double().eval()
    images = torch.randn(3, 3, 20, 18, dtype=torch.float64)
    with pytest.raises(ValueError, match="target must give one value per image: the batch has 3 images, target has 2"):
        zfcuda.occlusion(model, images, target=[0, 1], patch=6, show_progress=False)
    with pytest.raises(ValueError, match="fill must give one value per image"):
        zfcuda.occlusion(model, images, patch=6, fill=torch.zeros(2, 3, 20, 18, dtype=torch.float64), show_progress=False)
    with pytest.raises(TypeError, match="target for a batch must be one value or one per image"):
        zfcuda.occlusion(model, images, target=1.5, patch=6, show_progress=False)
