-- The daily KPIs of FEEDS.md (kpi_daily), per warehouse and company-wide ('ALL'), with the
-- target where the business set one (seed kpi_targets). Derived from the additive
-- components (fct_kpi_daily_components), so that a dashboard's sum over any warehouses and
-- channels and this table can never disagree: value = sum(numerator) / sum(denominator)
-- over the warehouse's rows (every channel), or over all rows for 'ALL' (also those that
-- count company-wide only), where there is something to measure (sum(observations) > 0)
-- and the denominator is not 0.
-- return_rate is at most 1: FEEDS.md's rates are fractions, and the returns requested on a
-- day can outnumber the 30 days' shipments they are divided by (a large return of goods
-- shipped before the window, at a warehouse that ships little). The dashboard caps alike.
with components as (
    select * from {{ ref('fct_kpi_daily_components') }}
),

scoped as (
    select date, warehouse_id, metric, numerator, denominator, observations
    from components
    where warehouse_id is not null
    union all
    select date, 'ALL' as warehouse_id, metric, numerator, denominator, observations
    from components
),

-- A parallel sum of doubles is not bit-for-bit repeatable; rounded to 9 decimals, the same
-- data gives the same published kpi_daily (its sha256 in the feed manifest) on every run.
metrics as (
    select
        date as kpi_date,
        warehouse_id,
        metric,
        round(
            case when metric = 'return_rate'
                then least(sum(numerator) / sum(denominator), 1)
                else sum(numerator) / sum(denominator)
            end,
            9
        ) as metric_value
    from scoped
    group by date, warehouse_id, metric
    having sum(observations) > 0 and sum(denominator) <> 0
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
