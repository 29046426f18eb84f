"""Issue 5's target, asserted: churn alerts at scale 1 find the generator's true churners
with precision and recall >= 0.8. The world is the session's shared `scale1_warehouse`
(seed 7, tests/conftest.py); the measure is bench/churn.py's, so the test and the
benchmark count the same way."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from conftest import Scale1Warehouse

from models_ml.churn import run_customer_intelligence


def _bench_churn():
    spec = importlib.util.spec_from_file_location(
        "bench_churn", Path(__file__).parents[1] / "bench" / "churn.py"
    )
    bench = importlib.util.module_from_spec(spec)
    sys.modules["bench_churn"] = bench  # its dataclasses look their module up
    spec.loader.exec_module(bench)
    return bench


@pytest.mark.slow
def test_churn_alerts_reach_the_issues_precision_and_recall_at_scale_1(
    scale1_warehouse: Scale1Warehouse,
) -> None:
    run_customer_intelligence(scale1_warehouse.db_path)
    quality = _bench_churn().measure(scale1_warehouse.db_path, scale1_warehouse.truth)
    assert quality.churners >= 200, quality  # 280 churner customers at scale 1
    assert quality.precision >= 0.8, quality
    assert quality.recall >= 0.8, quality
