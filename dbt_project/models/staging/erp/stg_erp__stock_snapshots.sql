with source as (
    select * from {{ source('raw', 'erp__stock_snapshots') }}
),

renamed as (
    select
        snapshot_date,
        trim(warehouse_id) as warehouse_id,
        trim(sku) as sku,
        on_hand,
        reserved,
        in_transit,
        damaged,
        -- reserved + damaged above on_hand is a backorder: available goes negative
        on_hand - reserved - damaged as available,
        _drop_date as source_drop_date,
        _line as source_line
    from source
),

latest as (
    {{ latest_version('renamed', ['snapshot_date', 'warehouse_id', 'sku'], has_updated_at=false) }}
)

select * from latest
