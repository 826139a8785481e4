"""docs/reproduction.md is what scripts/reproduction_report.py renders from docs/reproduction.json,
and the report's verdicts follow the numbers."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from reproduction_report import evolution_verdict, render  # noqa: E402

NUMBERS = json.loads((ROOT / "docs" / "reproduction.json").read_text())


def test_the_committed_report_is_rendered_from_the_committed_numbers():
    assert (ROOT / "docs" / "reproduction.md").read_text() == render(NUMBERS), "regenerate with python scripts/reproduce.py"


def test_the_shipped_model_in_the_report_is_the_one_in_the_package():
    from zfcuda.models import pretrained

    shipped = pretrained.load()
    assert NUMBERS["shipped_model"]["metrics"] == shipped.metrics
    assert NUMBERS["shipped_model"]["epochs_done"] == shipped.training["epochs_done"]


def test_fig4_verdict_follows_the_filter_movement():
    evolution = {"weight_change_per_epoch": {"intervals": [[3, 5], [5, 10]], "layers": {"conv1": [0.05, 0.03], "conv5": [0.08, 0.06]}}}
    assert evolution_verdict(evolution) == "holds"
    evolution["weight_change_per_epoch"]["layers"]["conv1"] = [0.05, 0.07]
    assert evolution_verdict(evolution) == "holds partly"
    evolution["weight_change_per_epoch"]["layers"]["conv1"] = [0.09, 0.07]
    assert evolution_verdict(evolution) == "fails"


def test_a_report_without_the_shipped_snapshots_leaves_fig4_to_the_five_class_run():
    numbers = copy.deepcopy(NUMBERS)
    numbers.pop("shipped_evolution")
    report = render(numbers)
    assert "evolution_shipped" not in report and "Lower layers settle" not in report and "**From scratch.**" in report
