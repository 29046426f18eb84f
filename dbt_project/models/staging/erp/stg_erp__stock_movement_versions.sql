-- Every delivered version of every stock movement, not only the current one: a movement
-- re-delivered with another day, warehouse or SKU leaves the days it was on before, and
-- an incremental build must find those days again (int_stock_movements_daily).
with source as (
    select * from {{ source('raw', 'erp__stock_movements') }}
),

renamed as (
    select
        trim(movement_id) as movement_id,
        moved_at,
        {{ clean_text('warehouse_id') }} as warehouse_id,
        {{ clean_text('sku') }} as sku,
        qty,
        movement_type,
        _drop_date as source_drop_date,
        _line as source_line
    from source
)

select * from renamed
