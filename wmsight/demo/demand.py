"""The true demand process and the sampling helpers that realise it.

A day's demand for a SKU in a channel is proportional to a weight w(s, t):
popularity × on-sale × seasonality × (online) promotion lift × channel affinity.
Orders are placed by customers at their own rates, scaled by the calendar and by
Z(t) = Σ_s w(s, t) / Σ_s popularity: when a promotion lifts one SKU, the day gets
more orders rather than stealing lines from other SKUs, so the expected units of
every SKU are exactly rate × w(s, t), which is what `_truth/demand.parquet` holds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from wmsight.demo.geography import WAREHOUSES
from wmsight.demo.products import Catalogue
from wmsight.demo.timeline import Timeline

# Online order sizes: items = 1 + Poisson(0.35), units per item = 1 + Poisson(0.25).
ECOM_EXTRA_ITEMS = 0.35
ECOM_EXTRA_UNITS = 0.25
ECOM_UNITS_PER_ORDER = (1 + ECOM_EXTRA_ITEMS) * (1 + ECOM_EXTRA_UNITS)


@dataclass(frozen=True)
class ChannelWeights:
    """w(s, t) of one channel (or one platform) and its normaliser."""

    weights: np.ndarray  # (n_sku, n_day)
    norm: float  # Σ_s popularity × affinity: w summed over SKUs on a plain day

    @property
    def z(self) -> np.ndarray:
        """Order-rate multiplier per day."""
        return self.weights.sum(axis=0) / self.norm

    def sampler(self) -> DaySampler:
        return DaySampler(self.weights)


class DaySampler:
    """Draws SKUs from a different categorical distribution on each day in one
    vectorised call: the per-day CDFs are laid end to end, day d occupying (d, d+1],
    and a draw for day d is searchsorted(d + u)."""

    def __init__(self, weights: np.ndarray) -> None:
        n_sku, n_day = weights.shape
        cdf = np.cumsum(weights.T, axis=1)
        cdf /= cdf[:, -1:]
        cdf[:, -1] = 1.0  # exact end of each day's interval despite rounding
        cdf += np.arange(n_day)[:, None]
        self._flat = cdf.ravel()
        self._n_sku = n_sku

    def draw(self, days: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        x = days + rng.random(len(days))
        idx = np.searchsorted(self._flat, x, side="right")
        return idx - days * self._n_sku


def b2b_weights(cat: Catalogue, base: np.ndarray) -> ChannelWeights:
    return ChannelWeights(
        base * cat.b2b_affinity[:, None], float((cat.popularity * cat.b2b_affinity).sum())
    )


def ecom_weights(cat: Catalogue, base: np.ndarray, lift: np.ndarray) -> ChannelWeights:
    return ChannelWeights(
        base * cat.ecom_affinity[:, None] * lift, float((cat.popularity * cat.ecom_affinity).sum())
    )


def write_demand_truth(
    path: str,
    cat: Catalogue,
    timeline: Timeline,
    b2b: np.ndarray,
    ecom: np.ndarray,
    promo: np.ndarray,
    holiday: np.ndarray,
) -> int:
    """`_truth/demand.parquet`: one row per warehouse × on-sale SKU × day, sorted.

    b2b, ecom: (n_wh, n_sku, n_day) expected units; promo: (n_sku, n_day) bool, some
    promotion covers the SKU on some platform; holiday: per-day label or None.
    Written one warehouse per row group to keep memory flat at large scales.
    """
    on_sale = cat.active(np.arange(timeline.n_days))
    s_idx, t_idx = np.nonzero(on_sale)
    labels = sorted({h for h in holiday if h is not None})
    code = np.array([labels.index(h) if h is not None else -1 for h in holiday], dtype=np.int32)
    hol = code[t_idx]
    sku_dict = pa.array(cat.sku)
    wh_dict = pa.array([w.warehouse_id for w in WAREHOUSES])
    common = {
        "sku": pa.DictionaryArray.from_arrays(pa.array(s_idx.astype(np.int32)), sku_dict),
        "date": pa.array((t_idx + timeline.day0).astype(np.int32), type=pa.date32()),
    }
    promo_col = pa.array(promo[s_idx, t_idx])
    holiday_col = pa.DictionaryArray.from_arrays(
        pa.array(hol, mask=hol < 0), pa.array(labels, type=pa.string())
    )
    writer: pq.ParquetWriter | None = None
    rows = 0
    try:
        for w in range(len(WAREHOUSES)):
            exp_b2b = b2b[w][s_idx, t_idx].astype(np.float32)
            exp_ecom = ecom[w][s_idx, t_idx].astype(np.float32)
            table = pa.table(
                {
                    "warehouse_id": pa.DictionaryArray.from_arrays(
                        pa.array(np.full(len(s_idx), w, dtype=np.int32)), wh_dict
                    ),
                    **common,
                    "expected_units": pa.array(exp_b2b + exp_ecom),
                    "expected_units_b2b": pa.array(exp_b2b),
                    "expected_units_ecom": pa.array(exp_ecom),
                    "promo": promo_col,
                    "holiday": holiday_col,
                }
            )
            if writer is None:
                writer = pq.ParquetWriter(
                    path,
                    table.schema,
                    compression="zstd",
                    use_dictionary=["warehouse_id", "sku", "date", "holiday"],
                )
            writer.write_table(table)
            rows += table.num_rows
    finally:
        if writer is not None:
            writer.close()
    return rows
