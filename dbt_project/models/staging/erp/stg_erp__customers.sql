with source as (
    select * from {{ source('raw', 'erp__customers') }}
),

renamed as (
    select
        trim(erp_code) as erp_code,
        {{ clean_text('legal_name') }} as legal_name,
        -- a licence number typed in groups (9144-0101-MA5X …) is the same number
        nullif(regexp_replace({{ id_key('tax_id') }}, '[-_./]', '', 'g'), '') as tax_id,
        {{ clean_text('phone') }} as phone_raw,
        {{ normalize_phone('phone') }} as phone,
        {{ province_key('province') }} as province_raw,
        {{ clean_text('city') }} as city,
        {{ clean_text('address') }} as address,
        payment_terms_days,
        credit_limit_cny,
        {{ clean_text('crm_id') }} as crm_id,
        updated_at,
        _drop_date as source_drop_date,
        _line as source_line
    from source
),

latest as (
    {{ latest_version('renamed', ['erp_code']) }}
)

select * from latest
