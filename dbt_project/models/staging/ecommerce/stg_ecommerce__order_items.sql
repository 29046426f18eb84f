with items as (
    select * from {{ source('raw', 'ecommerce__order_items') }}
),

order_versions as (
    select
        trim(order_id) as order_id,
        updated_at,
        _drop_date as source_drop_date,
        _line as source_line
    from {{ source('raw', 'ecommerce__orders') }}
),

-- the items of an order are the ones delivered with its current version
current_orders as (
    {{ latest_version('order_versions', ['order_id']) }}
),

renamed as (
    select
        trim(items.order_id) as order_id,
        items._item_index as item_index,
        trim(items.sku) as sku,
        items.qty as ordered_qty,
        items.unit_price_cny,
        coalesce(items.discount_cny, 0) as discount_cny,
        items._drop_date as source_drop_date,
        items._line as source_line
    from items
),

final as (
    select renamed.*, current_orders.first_drop_date
    from renamed
    inner join current_orders
        on renamed.order_id = current_orders.order_id
        and renamed.source_drop_date = current_orders.source_drop_date
        and renamed.source_line = current_orders.source_line
)

select * from final
