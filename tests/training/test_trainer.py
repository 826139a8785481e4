"""Training: real-data learning, 10-crop evaluation, resume, and torchrun with two processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from tests.helpers.shared_data import CIFAR
from zfcuda.data import ImageFolder, collate_skipping, ten_crops
from zfcuda.models import ZFNet, pretrained
from zfcuda.training import TrainConfig, Trainer, evaluate

needs_cifar = pytest.mark.skipif(not CIFAR.is_dir(), reason=f"CIFAR-10 folders not found at {CIFAR}")
QUICK_WIDTH_TRAINED = 0.125
QUICK = dict(width=QUICK_WIDTH_TRAINED, init="kaiming", workers=0, val_crops=1, seed=1)


def _config(tmp_path, **overrides) -> TrainConfig:
    options = dict(data_dir=str(CIFAR), out_dir=str(tmp_path), classes=["airplane", "frog", "truck"], per_class=40,
                   val_per_class=20, epochs=1, batch_size=8, **QUICK)
    options.update(overrides)
    return TrainConfig(**options)


@needs_cifar
def test_short_real_training_lowers_loss_and_beats_chance(tmp_path):
    history = Trainer(_config(tmp_path, per_class=100, val_per_class=50, epochs=4, batch_size=16, lr=0.01)).fit()
    losses = [h["train"]["loss"] for h in history]
    assert losses[-1] < losses[0]
    assert history[-1]["val"]["top1_error"] < 0.6  # chance is 2/3 for three classes
    # The float16 export loads on its own and predicts like the trained model.
    exported = pretrained.export(tmp_path / "checkpoint.pt", tmp_path / "model.pt", {"note": "test"})
    loaded = pretrained.load(exported)
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=False)
    model = ZFNet(3, QUICK_WIDTH_TRAINED, dropout=0.5)
    model.load_state_dict(state["model"])
    x = torch.randn(4, 3, 224, 224)
    with torch.no_grad():
        torch.testing.assert_close(loaded.model(x), model.eval()(x), rtol=2e-2, atol=2e-2)
    assert loaded.classes == ["airplane", "frog", "truck"] and loaded.metrics == {"note": "test"}
    assert torch.allclose(loaded.mean, state["mean"], atol=1e-3) and "subtract the mean image" in loaded.preprocessing


@needs_cifar
def test_resume_continues_identically(tmp_path):
    straight = Trainer(_config(tmp_path / "a", epochs=2))
    straight.fit()
    Trainer(_config(tmp_path / "b", epochs=1)).fit()
    resumed = Trainer(_config(tmp_path / "b", epochs=2, resume=True))
    assert resumed.start_epoch == 1
    resumed.fit()
    for (name, a), b in zip(straight.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), name


@needs_cifar
def test_resume_refuses_a_mismatched_checkpoint(tmp_path):
    Trainer(_config(tmp_path, epochs=1)).fit()
    with pytest.raises(ValueError, match="width"):
        Trainer(_config(tmp_path, epochs=2, width=0.25, resume=True))


@needs_cifar
def test_ten_crop_evaluation_against_a_direct_loop(tmp_path):
    data = ImageFolder(CIFAR / "test", classes=["cat", "dog", "ship"], per_class=4)
    model = ZFNet(3, width=0.125, init="kaiming").eval()
    mean = torch.rand(3, 256, 256) * 0.5
    loader = torch.utils.data.DataLoader(data, batch_size=5, collate_fn=collate_skipping)
    stats = evaluate(model, loader, mean, crops=10, device=torch.device("cpu"))
    correct = loss = 0.0
    for i in range(len(data)):
        image, label, _ = data[i]
        with torch.no_grad():
            probs = torch.stack([F.softmax(model(crop[None]), 1)[0] for crop in ten_crops(image[None], mean)[0]]).mean(0)
        correct += float(probs.argmax() == label)
        loss -= probs[label].log().item()
    assert stats["images"] == len(data)
    assert stats["top1_error"] == pytest.approx(1 - correct / len(data))
    assert stats["loss"] == pytest.approx(loss / len(data), rel=1e-5)
    assert stats["top5_error"] == 0.0  # 3 classes: the true one is always in the top 5


@needs_cifar
def test_two_process_torchrun_equals_one_process(tmp_path):
    common = ["--epochs", "1", "--batch-size", "8", "--per-class", "8", "--val-per-class", "2", "--width", "0.125",
              "--init", "kaiming", "--dropout", "0", "--workers", "0", "--seed", "3", "--device", "cpu",
              "--classes", "cat", "dog"]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    runs = {}
    for procs in (1, 2):
        out = tmp_path / f"p{procs}"
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={procs}",
                   "-m", "zfcuda", "train", str(CIFAR), "--out-dir", str(out), *common]  # fmt: skip
        run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, run.stderr[-4000:]
        runs[procs] = torch.load(out / "checkpoint.pt", weights_only=False)
    for name, weight in runs[1]["model"].items():
        torch.testing.assert_close(runs[2]["model"][name], weight, rtol=1e-4, atol=1e-6, msg=name)
    assert runs[1]["history"][0]["train"]["loss"] == pytest.approx(runs[2]["history"][0]["train"]["loss"], rel=1e-4)


def test_bad_config():
    with pytest.raises(ValueError, match="width must be > 0"):
        TrainConfig(data_dir="x", width=0).validate()
    with pytest.raises(FileNotFoundError, match="has no train folder"):
        Trainer(TrainConfig(data_dir=str(Path(__file__).parent), epochs=1))


def test_loading_something_else_is_a_clear_error(tmp_path):
    torch.save({"weights": 1}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not an exported zfcuda model"):
        pretrained.load(tmp_path / "other.pt")
    with pytest.raises(FileNotFoundError, match="no pretrained ZF-Net"):
        pretrained.load(tmp_path / "missing.pt")


@needs_cifar
def test_continuing_an_export_keeps_its_weights_mean_history_and_learning_rate(tmp_path):
    Trainer(_config(tmp_path / "a", epochs=2)).fit()
    exported = pretrained.export(tmp_path / "a" / "checkpoint.pt", tmp_path / "model.pt")
    record = torch.load(exported, weights_only=False)
    continued = Trainer(_config(tmp_path / "b", epochs=3, init_from=str(exported)))
    assert continued.start_epoch == 2 and len(continued.history) == 2
    assert torch.equal(continued.mean, record["mean"].float())
    for name, weight in record["model"].items():
        assert torch.equal(continued.model.state_dict()[name], weight.float()), name
    # The plateau scheduler replays the recorded errors: the learning rate is the one the history ends with.
    assert continued.optimizer.param_groups[0]["lr"] == pytest.approx(record["training"]["history"][-1]["lr"])
    history = continued.fit()
    assert [h["epoch"] for h in history] == [1, 2, 3]


@needs_cifar
def test_continuing_refuses_another_model(tmp_path):
    Trainer(_config(tmp_path / "a", epochs=1)).fit()
    exported = pretrained.export(tmp_path / "a" / "checkpoint.pt", tmp_path / "model.pt")
    with pytest.raises(ValueError, match="init_from .* width 0.125"):
        Trainer(_config(tmp_path / "b", width=0.25, init_from=str(exported)))
    torch.save({"x": 1}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not an exported zfcuda model"):
        Trainer(_config(tmp_path / "c", init_from=str(tmp_path / "other.pt")))


@needs_cifar
def test_cached_and_decoded_training_agree(tmp_path):
    # Same images, same crops, same order: the cache changes only where the pixels come from.
    runs = {cache: Trainer(_config(tmp_path / str(cache), epochs=1, dropout=0.0, cache=cache)) for cache in (True, False)}
    for trainer in runs.values():
        trainer.fit()
    torch.testing.assert_close(runs[True].mean, runs[False].mean, rtol=0, atol=1e-6)
    for name, weight in runs[False].model.state_dict().items():
        torch.testing.assert_close(runs[True].model.state_dict()[name], weight, rtol=1e-4, atol=1e-5, msg=name)
