-- The daily KPIs of FEEDS.md (kpi_daily), per warehouse and company-wide ('ALL'), with the
-- target where the business set one (seed kpi_targets).
with all_metrics as (
    select * from {{ ref('int_kpi__fulfillment') }}
    union all
    select * from {{ ref('int_kpi__customer_experience') }}
    union all
    select * from {{ ref('int_kpi__inventory') }}
),

-- A parallel sum of doubles is not bit-for-bit repeatable; rounded to 9 decimals, the same
-- data gives the same published kpi_daily (its sha256 in the feed manifest) on every run.
metrics as (
    select kpi_date, warehouse_id, metric, round(metric_value, 9) as metric_value
    from all_metrics
),

targets as (
    select * from {{ ref('kpi_targets') }}
),

with_targets as (
    select
        metrics.kpi_date,
        metrics.warehouse_id,
        metrics.metric,
        metrics.metric_value,
        targets.target_kind,
        case
            when targets.target_kind in ('at_least', 'at_most') then targets.target_value
            when targets.target_kind = 'yoy_reduction'
                then a_year_ago.metric_value * (1 - targets.target_value)
        end as target_value
    from metrics
    left join targets on metrics.metric = targets.metric
    left join metrics as a_year_ago
        on a_year_ago.metric = metrics.metric
        and a_year_ago.warehouse_id = metrics.warehouse_id
        and a_year_ago.kpi_date = metrics.kpi_date - interval 365 days
),

final as (
    select
        kpi_date as date,
        warehouse_id,
        metric,
        metric_value as value,
        target_value as target,
        case
            when target_value is null then null
            when target_kind = 'at_least' then metric_value >= target_value
            else metric_value <= target_value
        end as meets_target
    from with_targets
)

select date, warehouse_id, metric, value, target, meets_target from final
