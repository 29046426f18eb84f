-- Order lines of both channels in one shape: B2B lines from the ERP, items of online
-- orders from the platforms. Customers are still source ids here (erp_code or
-- platform:buyer_id); the marts map them to customer keys.
-- Incremental: a build after a new drop rebuilds, whole, only the orders that drop touched
-- (a newer version with fewer items leaves none of the old ones behind) and the online
-- orders now allocated to another warehouse (a warehouse opened or moved).
{{ config(
    materialized='incremental',
    unique_key='order_id',
) }}

with erp_orders as (
    select * from {{ ref('stg_erp__sales_orders') }}
),

erp_lines as (
    select * from {{ ref('stg_erp__sales_order_lines') }}
),

online_orders as (
    select * from {{ ref('int_ecommerce_orders__allocated') }}
),

{% if is_incremental() %}
loaded as (
    {{ last_loaded_drop('last_changed_drop') }}
),

changed_orders as (
    select order_no as order_id from erp_orders
    where source_drop_date > (select last_drop from loaded)
    union
    select order_no from erp_lines where source_drop_date > (select last_drop from loaded)
    union
    select order_id from online_orders where source_drop_date > (select last_drop from loaded)
    union
    select built.order_id
    from {{ this }} as built
    inner join online_orders on built.order_id = online_orders.order_id
    where built.channel = 'ecommerce'
        and built.warehouse_id is distinct from online_orders.fulfilling_warehouse_id
),
{% endif %}

online_items as (
    select * from {{ ref('stg_ecommerce__order_items') }}
),

promises as (
    select * from {{ ref('ecommerce_delivery_promise') }}
),

b2b as (
    select
        erp_lines.order_no as order_id,
        erp_lines.line_no as line_number,
        'b2b' as channel,
        cast(null as varchar) as platform,
        'erp' as customer_source_system,
        erp_orders.erp_code as customer_source_id,
        erp_orders.warehouse_id,
        erp_lines.sku,
        erp_lines.ordered_qty,
        erp_lines.unit_price_cny,
        erp_lines.discount_cny,
        coalesce(erp_lines.shipped_sku, erp_lines.sku) as shipped_sku,
        coalesce(
            erp_lines.shipped_qty,
            case when erp_orders.shipped_at is not null then erp_lines.ordered_qty else 0 end
        ) as shipped_qty,
        erp_orders.order_status,
        erp_orders.ordered_at,
        erp_orders.promised_at,
        erp_orders.shipped_at,
        erp_orders.delivered_at,
        erp_orders.cancelled_at,
        greatest(erp_lines.source_drop_date,
                 coalesce(erp_orders.source_drop_date, erp_lines.source_drop_date))
            as last_changed_drop
    from erp_lines
    -- a line whose order header has not arrived yet is kept (left join)
    left join erp_orders on erp_lines.order_no = erp_orders.order_no
    {% if is_incremental() %}
    where erp_lines.order_no in (select order_id from changed_orders)
    {% endif %}
),

online as (
    select
        online_items.order_id,
        online_items.item_index + 1 as line_number,
        'ecommerce' as channel,
        online_orders.platform,
        'ecommerce' as customer_source_system,
        online_orders.buyer_key as customer_source_id,
        online_orders.fulfilling_warehouse_id as warehouse_id,
        online_items.sku,
        online_items.ordered_qty,
        online_items.unit_price_cny,
        online_items.discount_cny,
        online_items.sku as shipped_sku,
        case
            when online_orders.shipped_at is not null
                or online_orders.order_status in ('shipped', 'delivered')
                then online_items.ordered_qty
            else 0
        end as shipped_qty,
        online_orders.order_status,
        online_orders.created_at as ordered_at,
        coalesce(online_orders.paid_at, online_orders.created_at)
            + to_hours(cast(coalesce(promises.promise_hours,
                                     {{ var('ecommerce_promise_hours_default') }}) as bigint))
            as promised_at,
        online_orders.shipped_at,
        online_orders.delivered_at,
        online_orders.cancelled_at,
        online_orders.source_drop_date as last_changed_drop
    from online_items
    inner join online_orders on online_items.order_id = online_orders.order_id
    left join promises on online_orders.ship_region = promises.region
    {% if is_incremental() %}
    where online_items.order_id in (select order_id from changed_orders)
    {% endif %}
),

unioned as (
    select * from b2b
    union all
    select * from online
),

final as (
    select
        *,
        ordered_qty * unit_price_cny - discount_cny as line_amount_cny,
        order_status = 'cancelled' or cancelled_at is not null as is_cancelled,
        shipped_qty > 0 and shipped_sku <> sku as is_mis_shipment,
        {{ fulfillment_seconds('ordered_at', 'delivered_at') }} / 3600.0 as fulfillment_hours,
        case
            when delivered_at is not null and promised_at is not null
                then delivered_at <= promised_at
        end as is_on_time
    from unioned
)

select * from final
