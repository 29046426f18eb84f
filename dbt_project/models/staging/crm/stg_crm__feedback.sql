with source as (
    select * from {{ source('raw', 'crm__feedback') }}
),

renamed as (
    select
        trim(feedback_id) as feedback_id,
        {{ clean_text('crm_id') }} as crm_id,
        {{ clean_text('order_ref') }} as order_ref,
        channel,
        submitted_at,
        score,
        {{ clean_text('comment') }} as comment,
        _drop_date as source_drop_date,
        _line as source_line
    from source
),

latest as (
    {{ latest_version('renamed', ['feedback_id'], has_updated_at=false) }}
)

select * from latest
