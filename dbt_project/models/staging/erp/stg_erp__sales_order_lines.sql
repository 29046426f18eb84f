with source as (
    select * from {{ source('raw', 'erp__sales_order_lines') }}
),

renamed as (
    select
        trim(order_no) as order_no,
        line_no,
        trim(sku) as sku,
        qty as ordered_qty,
        unit_price_cny,
        coalesce(discount_cny, 0) as discount_cny,
        {{ clean_text('shipped_sku') }} as shipped_sku,
        shipped_qty,
        _drop_date as source_drop_date,
        _line as source_line
    from source
),

latest as (
    {{ latest_version('renamed', ['order_no', 'line_no'], has_updated_at=false) }}
)

select * from latest
