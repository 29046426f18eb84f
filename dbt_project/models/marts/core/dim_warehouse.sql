with warehouses as (
    select * from {{ ref('stg_erp__warehouses') }}
),

provinces as (
    select * from {{ ref('province_regions') }}
),

known as (
    select
        warehouses.warehouse_id,
        warehouses.warehouse_name,
        warehouses.region,
        coalesce(provinces.province, warehouses.province_raw) as province,
        warehouses.city,
        warehouses.latitude,
        warehouses.longitude,
        warehouses.capacity_units,
        false as is_unknown_member
    from warehouses
    left join provinces
        on {{ province_short_form('warehouses.province_raw') }} = provinces.province_short
),

-- facts whose warehouse has no master yet point here until the master arrives
unknown_member as (
    select
        '{{ var("unknown_member_key") }}' as warehouse_id,
        'Unknown warehouse' as warehouse_name,
        cast(null as varchar) as region,
        cast(null as varchar) as province,
        cast(null as varchar) as city,
        cast(null as double) as latitude,
        cast(null as double) as longitude,
        cast(null as bigint) as capacity_units,
        true as is_unknown_member
),

final as (
    select
        warehouse_id, warehouse_name, region, province, city, latitude, longitude,
        capacity_units, is_unknown_member
    from known
    union all
    select
        warehouse_id, warehouse_name, region, province, city, latitude, longitude,
        capacity_units, is_unknown_member
    from unknown_member
)

select
    warehouse_id, warehouse_name, region, province, city, latitude, longitude,
    capacity_units, is_unknown_member
from final
