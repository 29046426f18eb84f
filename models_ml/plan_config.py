"""The replenishment plan's business parameters, apart from its arithmetic.

Light to import (pydantic only): `wmsight.config` reads them from WMSIGHT_PLAN__*
settings for every command and each Airflow task.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator

ABC_CLASSES = ("A", "B", "C")


class PlanConfig(BaseModel):
    """Business parameters of the plan (every one is shown beside the result it drives)."""

    service_levels: dict[str, float] = Field(
        default_factory=lambda: {"A": 0.98, "B": 0.95, "C": 0.90},
        description="cycle service level target per ABC class",
    )
    high_value_service_level: float = Field(0.99, gt=0, lt=1)
    high_value_tiers: tuple[str, ...] = ("high_value",)
    high_value_share: float = Field(
        0.85,
        ge=0,
        le=1,
        description="share of a SKU's units (at that warehouse, last 365 d) bought by "
        "high-value customers from which its target is raised",
    )
    order_cost_cny: float = Field(100.0, ge=0, description="K: cost of placing one order line")
    holding_rate: float = Field(
        0.25, gt=0, description="h: holding cost per year, share of unit cost"
    )
    review_days: int = Field(1, ge=1, description="days between reviews (daily review: 1)")
    history_days: int = Field(56, ge=1, description="days of history behind the fallback forecast")
    lead_time_variability: bool = Field(
        True, description="add the σ_L term from received purchase orders to safety stock"
    )
    min_receipts_for_lead_time_sd: int = Field(3, ge=2)
    stale_position_days: int = Field(
        7,
        ge=0,
        description="warn when the stock position the plan starts from is more than this "
        "many days before the run date (no drop since brought stock records)",
    )
    transfer_km_per_day: float = Field(600.0, gt=0)
    order_size_cover: bool = Field(
        True,
        description="raise the reorder point to the day's demand below which the service-level "
        "share of last year's units fell (one B2B order can exceed the lead-time forecast)",
    )
    order_size_cover_network: bool = Field(
        True,
        description="the cover is at least the same quantile of the SKU's days at every "
        "warehouse together (a warehouse with few sales has seen too few orders)",
    )
    cover_history_days: int = Field(
        365, ge=1, description="days of demand behind the order-size cover"
    )
    order_size_cover_max_days: float | None = Field(
        None,
        gt=0,
        description="at most this many days of the cell's demand in the order-size cover: "
        "a larger single order is one to agree with the customer ahead of time, not stock to "
        "hold all year (the reason says when the cap applies). None (default): no cap; on "
        "the demo world a cap of 365 days costs the plan its fill-rate target (docs/"
        "REPLENISHMENT.md)",
    )
    transfer_trigger: Literal[
        "reorder_point_or_cover", "reorder_point", "stockout_within_lead_time"
    ] = Field(
        "reorder_point_or_cover",
        description="when a warehouse takes a sister's stock: when it would purchase (at or "
        "below its reorder point) or its stock will not last until a transfer could arrive "
        "(default); only when it would purchase; or only when it would purchase and runs "
        "out within its lead time (the issue's first wording)",
    )
    transfer_source: Literal["above_reorder_point", "above_order_up_to"] = Field(
        "above_reorder_point",
        description="what a sister warehouse gives: whatever keeps it at its reorder point and "
        "its own local cover (default), or only stock above its order-up-to level",
    )

    def describe(self) -> str:
        """The settings a planner asks about first, in one line, so that a printed plan or
        replay says what it was made with."""
        targets = " / ".join(f"{c} {self.service_levels[c]:.0%}" for c in ABC_CLASSES)
        if not self.order_size_cover:
            cover = "off"
        else:
            cover = (
                "the network's and the warehouse's"
                if self.order_size_cover_network
                else "the warehouse's own"
            ) + (
                f", capped at {self.order_size_cover_max_days:g} days of demand"
                if self.order_size_cover_max_days is not None
                else ", no cap"
            )
        return (
            f"service levels {targets} (high-value {self.high_value_service_level:.0%}); "
            f"order cost {self.order_cost_cny:g} CNY, holding {self.holding_rate:.0%} a year; "
            f"review every {self.review_days} d; order-size cover: {cover}; transfers: "
            f"{self.transfer_trigger}, from {self.transfer_source}"
        )

    @field_validator("service_levels")
    @classmethod
    def _one_target_per_class(cls, levels: dict[str, float]) -> dict[str, float]:
        if sorted(levels) != list(ABC_CLASSES):
            raise ValueError(
                f"give a target for each ABC class {ABC_CLASSES}, got {sorted(levels)}"
            )
        for abc_class, level in levels.items():
            if not 0 < level < 1:
                raise ValueError(f"class {abc_class}: {level} is not strictly between 0 and 1")
        return levels
