-- Every source record of a customer as its system holds it (name, contact, phone, e-mail,
-- place, account manager), with the customer it was merged into and how: what a person
-- searching for a customer by name, phone or any source id needs to see.
with identity_map as (
    select * from {{ ref('customer_identity_map') }}
),

source_records as (
    select * from {{ ref('int_customer_source_records') }}
),

crm_customers as (
    select * from {{ ref('stg_crm__customers') }}
),

final as (
    select
        identity_map.source_system,
        identity_map.source_id,
        identity_map.customer_key,
        identity_map.match_rule,
        identity_map.match_score,
        source_records.source_name,
        source_records.contact_name,
        source_records.phone,
        source_records.email,
        source_records.tax_id,
        source_records.province,
        source_records.city_as_written as city,
        crm_customers.account_manager
    from identity_map
    left join source_records
        on identity_map.source_system = source_records.source_system
        and identity_map.source_id = source_records.source_id
    left join crm_customers
        on identity_map.source_system = 'crm'
        and identity_map.source_id = crm_customers.crm_id
)

select
    source_system,
    source_id,
    customer_key,
    match_rule,
    match_score,
    source_name,
    contact_name,
    phone,
    email,
    tax_id,
    province,
    city,
    account_manager
from final
