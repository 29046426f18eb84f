with source as (
    select * from {{ source('raw', 'crm__customers') }}
),

renamed as (
    select
        trim(crm_id) as crm_id,
        {{ clean_text('company_name') }} as company_name,
        {{ clean_text('contact_name') }} as contact_name,
        {{ clean_text('phone') }} as phone_raw,
        {{ normalize_phone('phone') }} as phone,
        {{ normalize_email('email') }} as email,
        {{ province_key('province') }} as province_raw,
        {{ clean_text('city') }} as city,
        {{ clean_text('industry') }} as industry,
        {{ clean_text('account_manager') }} as account_manager,
        cast(created_at as date) as created_on,
        updated_at,
        _drop_date as source_drop_date,
        _line as source_line
    from source
),

latest as (
    {{ latest_version('renamed', ['crm_id']) }}
)

select * from latest
