-- What the Splink model sees of each source record. Contact values that name a place
-- rather than a customer (a shared switchboard, a role mailbox such as info@…) and a
-- licence number on many records are withheld: they prove nothing.
with

records as (select * from {{ ref('int_customer_source_records') }}),

names as (select * from {{ ref('int_customer_name_latin') }}),

final as (
    select
        records.record_key as unique_id,
        case when records.source_system = 'ecommerce' then 'buyer' else 'company' end as kind,
        records.name_core,
        records.name_short,
        records.contact_name,
        names.name_spoken,
        names.name_spoken_script,
        case when not records.phone_is_shared then records.phone end as phone,
        case
            when not records.phone_is_shared then records.mobile_visible_digits
        end as mobile_visible_digits,
        case
            when records.phone_is_shared then null
            when records.mobile_visible_digits is not null then 'mobile'
            when records.phone is not null then 'landline'
        end as phone_kind,
        case
            when not (records.email_is_shared or records.email_is_role_mailbox)
                then records.email
        end as email,
        records.city,
        records.district,
        records.province,
        case when not records.tax_id_is_shared then records.tax_id end as tax_id
    from records
    left join names on records.record_key = names.record_key
)

select * from final
