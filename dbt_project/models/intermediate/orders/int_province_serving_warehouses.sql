-- Which warehouse serves each province: the nearest (by great-circle distance from the
-- province capital) of the warehouses in the province's region; when the region has no
-- warehouse, the nearest warehouse overall.
with provinces as (
    select * from {{ ref('province_regions') }}
),

warehouses as (
    select * from {{ ref('stg_erp__warehouses') }}
    where latitude is not null and longitude is not null
),

candidates as (
    select
        provinces.province,
        provinces.region as province_region,
        warehouses.warehouse_id,
        warehouses.region = provinces.region as in_region,
        {{ great_circle_km('provinces.capital_latitude', 'provinces.capital_longitude',
                           'warehouses.latitude', 'warehouses.longitude') }} as distance_km
    from provinces
    cross join warehouses
),

ranked as (
    select
        *,
        row_number() over (
            partition by province
            order by in_region desc, distance_km, warehouse_id
        ) as preference
    from candidates
),

final as (
    select
        province,
        province_region,
        warehouse_id as serving_warehouse_id,
        case when in_region then 'nearest_in_region' else 'nearest_overall' end
            as allocation_rule,
        round(distance_km, 1) as distance_km
    from ranked
    where preference = 1
)

select * from final
