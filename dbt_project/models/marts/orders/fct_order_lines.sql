-- One row per order line of both channels, with its customer (single customer view),
-- warehouse and SKU keys (an unknown member while a master is missing), lifecycle,
-- fulfillment, on-time, mis-shipment, returns and late invoice payment.
--
-- Incremental, whole orders at a time: a build rebuilds the orders whose lines a new drop
-- changed, those whose returns, invoice lateness (it moves with the newest invoice date)
-- or warehouse (re-allocated) differ from what their built rows say, those whose
-- customer now maps to another customer_key (identity links change as records arrive),
-- and those still waiting for their warehouse or SKU master.
{{ config(
    materialized='incremental',
    unique_key='order_id',
) }}

with all_order_lines as (
    select * from {{ ref('int_order_lines') }}
),

customer_keys as (
    select * from {{ ref('customer_identity_map') }}
),

warehouses as (
    select warehouse_id from {{ ref('dim_warehouse') }}
),

products as (
    select sku from {{ ref('dim_product') }}
),

returns as (
    select * from {{ ref('stg_erp__returns') }}
),

invoices as (
    select * from {{ ref('stg_erp__invoices') }}
),

returned as (
    select
        order_ref as order_id,
        sku,
        sum(returned_qty) as returned_qty,
        string_agg(distinct return_reason, ', ' order by return_reason) as return_reasons
    from returns
    group by order_ref, sku
),

invoice_status as (
    select
        order_no as order_id,
        -- paid after it was due, or still unpaid past its due date as of the latest invoice
        bool_or(
            paid_at > due_at
            or (paid_at is null and due_at < (select max(issued_at) from invoices))
        ) as is_invoice_paid_late
    from invoices
    where order_no is not null and amount_cny > 0
    group by order_no
),

{% if is_incremental() %}
loaded as (
    {{ last_loaded_drop('last_changed_drop') }}
),

-- what the built rows say about returns and invoices, to compare with what they say now:
-- a return or invoice can arrive, change, or move to another order
built_returns as (
    select order_id, sku, returned_qty, return_reasons from {{ this }}
    where returned_qty <> 0 or return_reasons is not null
),

built_invoices as (
    select distinct order_id, is_invoice_paid_late from {{ this }}
    where is_invoice_paid_late is not null
),

-- returns and invoices of orders or SKUs with no line attach to nothing: compared, they
-- would differ on every build
attached_returns as (
    select order_id, sku, returned_qty, return_reasons from returned
    where (order_id, sku) in (select (order_id, sku) from all_order_lines)
),

attached_invoices as (
    select order_id, is_invoice_paid_late from invoice_status
    where order_id in (select order_id from all_order_lines)
),

rebuilt_orders as (
    select order_id from all_order_lines where last_changed_drop > (select last_drop from loaded)
    union
    select order_id from ({{ differing_rows('attached_returns', 'built_returns') }})
    union
    select order_id from ({{ differing_rows('attached_invoices', 'built_invoices') }})
    union
    -- an online order allocated to another warehouse keeps its drop (no new version)
    select order_id from (
        select order_id, line_number, warehouse_id from {{ this }}
        except
        select order_id, line_number, warehouse_id from all_order_lines
    )
    union
    select built.order_id
    from {{ this }} as built
    left join customer_keys
        on built.customer_source_system = customer_keys.source_system
        and built.customer_source_id = customer_keys.source_id
    where built.customer_key
            <> coalesce(customer_keys.customer_key, '{{ var("unknown_member_key") }}')
        or built.warehouse_key = '{{ var("unknown_member_key") }}'
        or built.sku_key = '{{ var("unknown_member_key") }}'
),
{% endif %}

order_lines as (
    select
        *,
        -- returns name an order and SKU, not a line: they go on the SKU's first line
        row_number() over (partition by order_id, sku order by line_number) = 1
            as is_first_line_of_sku
    from all_order_lines
    {% if is_incremental() %}
    where order_id in (select order_id from rebuilt_orders)
    {% endif %}
),

final as (
    select
        order_lines.order_id,
        order_lines.line_number,
        order_lines.channel,
        order_lines.platform,
        coalesce(customer_keys.customer_key, '{{ var("unknown_member_key") }}')
            as customer_key,
        order_lines.customer_source_system,
        order_lines.customer_source_id,
        case when warehouses.warehouse_id is null
            then '{{ var("unknown_member_key") }}' else order_lines.warehouse_id end
            as warehouse_key,
        order_lines.warehouse_id,
        case when products.sku is null
            then '{{ var("unknown_member_key") }}' else order_lines.sku end as sku_key,
        order_lines.sku,
        order_lines.ordered_qty,
        order_lines.unit_price_cny,
        order_lines.discount_cny,
        order_lines.line_amount_cny,
        order_lines.shipped_sku,
        order_lines.shipped_qty,
        order_lines.is_mis_shipment,
        order_lines.order_status,
        order_lines.is_cancelled,
        order_lines.ordered_at,
        order_lines.promised_at,
        order_lines.shipped_at,
        order_lines.delivered_at,
        order_lines.cancelled_at,
        order_lines.fulfillment_hours,
        order_lines.is_on_time,
        coalesce(returned.returned_qty, 0) as returned_qty,
        returned.return_reasons,
        invoice_status.is_invoice_paid_late,
        order_lines.last_changed_drop
    from order_lines
    left join customer_keys
        on order_lines.customer_source_system = customer_keys.source_system
        and order_lines.customer_source_id = customer_keys.source_id
    left join warehouses on order_lines.warehouse_id = warehouses.warehouse_id
    left join products on order_lines.sku = products.sku
    left join returned
        on order_lines.order_id = returned.order_id and order_lines.sku = returned.sku
        and order_lines.is_first_line_of_sku
    left join invoice_status on order_lines.order_id = invoice_status.order_id
)

select
    order_id, line_number, channel, platform, customer_key, customer_source_system,
    customer_source_id, warehouse_key, warehouse_id, sku_key, sku, ordered_qty, unit_price_cny,
    discount_cny, line_amount_cny, shipped_sku, shipped_qty, is_mis_shipment, order_status,
    is_cancelled, ordered_at, promised_at, shipped_at, delivered_at, cancelled_at,
    fulfillment_hours, is_on_time, returned_qty, return_reasons, is_invoice_paid_late,
    last_changed_drop
from final
