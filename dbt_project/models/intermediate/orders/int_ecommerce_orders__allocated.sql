-- Every online order gets a fulfilling warehouse: the one the platform recorded, else
-- the warehouse serving the ship-to province (int_province_serving_warehouses).
with orders as (
    select * from {{ ref('stg_ecommerce__orders') }}
),

provinces as (
    select * from {{ ref('province_regions') }}
),

serving as (
    select * from {{ ref('int_province_serving_warehouses') }}
),

located as (
    select
        orders.*,
        provinces.province as ship_province,
        provinces.region as ship_region
    from orders
    left join provinces
        on {{ province_short_form('orders.ship_province_raw') }} = provinces.province_short
),

final as (
    select
        located.*,
        coalesce(located.warehouse_id, serving.serving_warehouse_id) as fulfilling_warehouse_id,
        case
            when located.warehouse_id is not null then 'recorded'
            when serving.serving_warehouse_id is not null then serving.allocation_rule
            else 'unallocated'
        end as allocation_rule
    from located
    left join serving on located.ship_province = serving.province
)

select * from final
