"""Customer feedback (crm/feedback.csv): scores and comments that follow experience.

Customers mostly leave feedback when something went wrong, so the chance of a
comment rises with a late delivery, a wrong item, damage, a quality problem or a
stock-out, and the score falls with it. Comments use the words customers type —
配送慢, 包装破损, 发错货, 缺货, "late delivery", "wrong item" — with the odd emoji,
blank comment, or multi-line complaint.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from wmsight.demo.customers import Population
from wmsight.demo.geography import transit_days_matrix
from wmsight.demo.orders import B2BLines, B2BOrders, EcomOrders
from wmsight.demo.schema import CHANNELS
from wmsight.demo.timeline import HOUR, NEVER, SECONDS_PER_DAY

ISSUES = ("none", "late", "wrong_item", "damaged", "quality", "stockout")
# P(score = 1..5) by issue
SCORES = {
    "none": (0.01, 0.02, 0.07, 0.30, 0.60),
    "late": (0.15, 0.25, 0.30, 0.20, 0.10),
    "wrong_item": (0.45, 0.30, 0.15, 0.07, 0.03),
    "damaged": (0.35, 0.30, 0.20, 0.10, 0.05),
    "quality": (0.35, 0.30, 0.20, 0.10, 0.05),
    "stockout": (0.20, 0.30, 0.30, 0.15, 0.05),
}
# chance that an order gets feedback, by issue (B2B, online)
FEEDBACK_RATE = {
    "none": (0.15, 0.09),
    "late": (0.20, 0.12),
    "wrong_item": (0.45, 0.35),
    "damaged": (0.40, 0.30),
    "quality": (0.40, 0.25),
    "stockout": (0.15, 0.15),
}
NO_ORDER_REF = 0.08  # general feedback not tied to an order

COMMENTS_ZH = {
    "none": (
        "很满意",
        "物流很快",
        "包装完好，物流很快",
        "服务很好，下次还来",
        "质量不错",
        "发货及时，点赞👍",
        "一如既往的好",
        "客服态度很好",
        "性价比高",
        "到货快，包装严实",
    ),
    "neutral": ("还行吧", "一般般", "东西可以，物流有点慢", "包装一般", "凑合"),
    "late": (
        "配送慢",
        "物流太慢了，等了一个星期",
        "比承诺的晚到了好几天",
        "催了好几次才送到",
        "送货延误，影响我们生产",
    ),
    "wrong_item": (
        "发错货",
        "发错货了，要的不是这个型号",
        "收到的商品和订单不符",
        "又发错了，请核对后再发",
    ),
    "damaged": ("包装破损", "外箱破损，里面有两件坏了", "运输过程中损坏", "包装破损严重"),
    "quality": ("质量差", "用了两天就坏了", "质量不行，要求退货", "和描述不符"),
    "stockout": (
        "缺货",
        "缺货也不提前通知",
        "只到了一部分，剩下的什么时候发？",
        "订单被取消了，说没货",
    ),
    "service": ("服务态度差", "客服不回消息", "打电话没人接"),
}
COMMENTS_EN = {
    "none": ("great service", "Fast delivery, thanks!", "Good quality.", "very satisfied"),
    "neutral": ("ok", "average", "Fine, a bit slow."),
    "late": ("late delivery", "Delivery was 3 days late.", "still waiting, very slow shipping"),
    "wrong_item": ("wrong item", "Received the wrong item", "wrong product shipped"),
    "damaged": ("package damaged", "Box arrived damaged", "broken on arrival"),
    "quality": ("poor quality", "stopped working after two days"),
    "stockout": ("out of stock again", "Order cancelled, no stock"),
    "service": ("rude customer service", "nobody answers the phone"),
}
CHANNEL_MIX = {"b2b": (0.10, 0.45, 0.35, 0.10), "ecom": (0.30, 0.05, 0.05, 0.60)}


def _issues(
    late: np.ndarray,
    wrong: np.ndarray,
    damaged: np.ndarray,
    quality: np.ndarray,
    stockout: np.ndarray,
) -> np.ndarray:
    """The one issue a customer talks about, most upsetting first."""
    return np.select([wrong, damaged, quality, stockout, late], [2, 3, 4, 5, 1], 0)


def _comment(issue: str, score: int, rng: np.random.Generator) -> str | None:
    if issue == "none" and score >= 4 and rng.random() < 0.3:
        return None
    pool_key = issue if (issue != "none" or score >= 4) else "neutral"
    if issue == "none" and score <= 2:
        pool_key = "service"
    english = rng.random() < 0.2
    pools = COMMENTS_EN if english else COMMENTS_ZH
    text = pools[pool_key][rng.integers(len(pools[pool_key]))]
    if not english and issue != "none" and rng.random() < 0.05:
        # a longer complaint written over two lines
        extra = COMMENTS_ZH["service"][rng.integers(len(COMMENTS_ZH["service"]))]
        text = f"{text}\n{extra}"
    return text


def build_feedback(
    pop: Population,
    orders: B2BOrders,
    lines: B2BLines,
    eorders: EcomOrders,
    returns: pl.DataFrame,
    rng: np.random.Generator,
) -> pl.DataFrame:
    """feedback.csv rows (submitted_at as naive-local seconds)."""
    ret = returns.select("kind", "order_idx", "reason")
    frames = []
    for kind, name in ((0, "b2b"), (1, "ecom")):
        if kind == 0:
            n = orders.n
            delivered = orders.delivered_at
            late = (delivered < NEVER) & (delivered > orders.promised_at)
            mis = np.zeros(n, dtype=bool)
            mis[lines.order[(lines.shipped_qty > 0) & (lines.shipped_sku != lines.sku)]] = True
            short = np.zeros(n, dtype=bool)
            short[lines.order[(lines.shipped_qty >= 0) & (lines.shipped_qty < lines.qty)]] = True
            stockout = orders.stockout | (short & (delivered < NEVER))
            crm = np.array([pop.crm_id_of[c] for c in orders.customer.tolist()], dtype=object)
            crm_share = 0.9
            refs = orders.order_no
            cancelled = orders.cancelled_at
        else:
            n = eorders.n
            delivered = eorders.delivered_at
            # the platform's delivery estimate: transit days rounded up, plus one
            transit = transit_days_matrix()[eorders.warehouse, eorders.province]
            estimate = eorders.paid_at + (np.ceil(transit).astype(np.int64) + 1) * SECONDS_PER_DAY
            late = (delivered < NEVER) & (delivered > estimate)
            mis = np.zeros(n, dtype=bool)
            stockout = eorders.stockout
            owner = pop.accounts.owner[eorders.account]
            crm = np.array([pop.crm_id_of[c] for c in owner.tolist()], dtype=object)
            crm_share = 0.4
            refs = eorders.order_id
            cancelled = eorders.cancelled_at
        r = ret.filter(pl.col("kind") == kind)
        damaged = np.zeros(n, dtype=bool)
        quality = np.zeros(n, dtype=bool)
        damaged[r.filter(pl.col("reason") == "damaged")["order_idx"].to_numpy()] = True
        quality[r.filter(pl.col("reason") == "quality")["order_idx"].to_numpy()] = True
        wrong = mis.copy()
        wrong[r.filter(pl.col("reason") == "wrong_item")["order_idx"].to_numpy()] = True

        issue = _issues(late, wrong, damaged, quality, stockout)
        eligible = (delivered < NEVER) | stockout
        rate = np.array([FEEDBACK_RATE[i][kind] for i in ISSUES])[issue]
        chosen = np.flatnonzero(eligible & (rng.random(n) < rate))
        iss = issue[chosen]
        base = np.where(delivered[chosen] < NEVER, delivered[chosen], cancelled[chosen])
        submitted = base + rng.integers(2 * HOUR, 5 * SECONDS_PER_DAY, len(chosen))
        probs = np.array([SCORES[i] for i in ISSUES])[iss]
        score = 1 + (rng.random(len(chosen))[:, None] > np.cumsum(probs, axis=1)).sum(axis=1)
        score = np.minimum(score, 5)
        channel = rng.choice(len(CHANNELS), size=len(chosen), p=CHANNEL_MIX[name])
        comments = [
            _comment(ISSUES[i], int(s), rng)
            for i, s in zip(iss.tolist(), score.tolist(), strict=True)
        ]
        crm_ids = crm[chosen].copy()
        crm_ids[rng.random(len(chosen)) >= crm_share] = None
        order_ref = refs[chosen].copy()
        order_ref[rng.random(len(chosen)) < NO_ORDER_REF] = None
        frames.append(
            pl.DataFrame(
                {
                    "crm_id": pl.Series(crm_ids.tolist(), dtype=pl.Utf8),
                    "order_ref": pl.Series(order_ref.tolist(), dtype=pl.Utf8),
                    "channel": np.array(CHANNELS)[channel],
                    "submitted_at": submitted,
                    "score": score.astype(np.int64),
                    "comment": pl.Series(comments, dtype=pl.Utf8),
                    "_issue": np.array(ISSUES)[iss],
                }
            )
        )
    df = pl.concat(frames).sort(
        "submitted_at", "order_ref", "score", nulls_last=True, maintain_order=True
    )
    return df.with_columns(
        feedback_id=pl.format("FB{}", (pl.int_range(pl.len()) + 1).cast(pl.Utf8).str.zfill(8))
    )
