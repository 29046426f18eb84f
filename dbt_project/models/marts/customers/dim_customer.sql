{#
  One row per real customer. Its descriptive attributes come from its most authoritative
  record: the ERP (legal name from the business licence), then the CRM, then a
  marketplace buyer; within a system the lowest id (the main account).
#}

with customer_keys as (
    select * from {{ ref('int_customer_keys') }}
),

source_records as (
    select * from {{ ref('int_customer_source_records') }}
),

provinces as (
    select * from {{ ref('province_regions') }}
),

records as (
    select
        customer_keys.customer_key,
        customer_keys.source_system,
        customer_keys.source_id,
        source_records.source_name,
        source_records.province,
        -- as written, without 市: 广州市 and 广州 read alike, Belo Horizonte keeps its space
        nullif(regexp_replace(source_records.city_as_written, '\s*市$', ''), '') as city,
        case customer_keys.source_system when 'erp' then 1 when 'crm' then 2 else 3 end
            as authority
    from customer_keys
    inner join source_records using (source_system, source_id)
),

customers as (
    select
        customer_key,
        arg_min(source_name, [authority::varchar, source_id]) filter (
            where source_name is not null
        ) as display_name,
        arg_min(province, [authority::varchar, source_id]) filter (
            where province is not null
        ) as province,
        arg_min(city, [authority::varchar, source_id]) filter (where city is not null) as city,
        coalesce(list(source_id order by source_id) filter (where source_system = 'crm'), [])
            as crm_ids,
        coalesce(list(source_id order by source_id) filter (where source_system = 'erp'), [])
            as erp_codes,
        coalesce(
            list(source_id order by source_id) filter (where source_system = 'ecommerce'), []
        ) as buyer_ids,
        count(*) filter (where source_system = 'crm') as crm_record_count,
        count(*) filter (where source_system = 'erp') as erp_record_count,
        count(*) filter (where source_system = 'ecommerce') as buyer_record_count,
        count(*) as source_record_count
    from records
    group by customer_key
),

final as (
    select
        customers.customer_key,
        customers.display_name,
        customers.province,
        provinces.region,
        customers.city,
        customers.crm_ids,
        customers.erp_codes,
        customers.buyer_ids,
        customers.crm_record_count,
        customers.erp_record_count,
        customers.buyer_record_count,
        customers.source_record_count
    from customers
    left join provinces on customers.province = provinces.province
)

select * from final
