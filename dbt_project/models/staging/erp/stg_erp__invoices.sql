with source as (
    select * from {{ source('raw', 'erp__invoices') }}
),

renamed as (
    select
        trim(invoice_no) as invoice_no,
        trim(erp_code) as erp_code,
        {{ clean_text('order_no') }} as order_no,
        issued_at,
        due_at,
        amount_cny,
        paid_at,
        _drop_date as source_drop_date,
        _line as source_line
    from source
),

latest as (
    {{ latest_version('renamed', ['invoice_no'], has_updated_at=false) }}
)

select * from latest
