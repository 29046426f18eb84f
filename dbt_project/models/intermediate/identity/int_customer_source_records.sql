{#
  Every record any system keeps of a customer, with the attributes identity resolution
  compares, normalised the same way whatever the system. An online buyer is described by
  its most frequent value of each attribute over its orders (ties: the most recent), so
  its district is where it usually has parcels delivered; an ERP customer's district is
  read from its address, and a CRM account's from the address of the ERP account that
  names it.
#}
{% set buyer_attributes = ['buyer_nickname', 'buyer_phone', 'buyer_email', 'ship_province_raw', 'ship_city', 'ship_district'] %}

with crm_customers as (
    select * from {{ ref('stg_crm__customers') }}
),

{# The CRM account an ERP account names, as the CRM writes its id: the reference is typed
   by hand in the ERP (crm-00042, ＣＲＭ-00042), so it is matched without case, width or
   spaces when exactly one CRM account has that key. #}
crm_id_keys as (
    select {{ id_key('crm_id') }} as crm_id_key, any_value(crm_id) as crm_id
    from crm_customers
    group by 1
    having count(*) = 1
),

erp_customers as (
    select
        stg.* exclude (crm_id),
        case
            when stg.crm_id in (select crm_id from crm_customers) then stg.crm_id
            else coalesce(crm_id_keys.crm_id, stg.crm_id)
        end as crm_id
    from {{ ref('stg_erp__customers') }} as stg
    left join crm_id_keys on {{ id_key('stg.crm_id') }} = crm_id_keys.crm_id_key
),

ecommerce_orders as (
    select * from {{ ref('stg_ecommerce__orders') }}
),

provinces as (
    select * from {{ ref('province_regions') }}
),

role_mailboxes as (
    select * from {{ ref('identity_role_mailboxes') }}
),

{% for column in buyer_attributes %}
buyer_{{ column }} as (
    select buyer_key, {{ column }}
    from ecommerce_orders
    where {{ column }} is not null
    group by buyer_key, {{ column }}
    qualify row_number() over (
        partition by buyer_key
        order by count(*) desc, max(created_at) desc, {{ column }}
    ) = 1
),

{% endfor %}
buyers as (
    select
        buyer_key,
        min(platform) as platform,
        count(*) as order_count
    from ecommerce_orders
    group by buyer_key
),

{# The CRM keeps no address, but an ERP account that names its CRM account (crm_id)
   gives it one: the latest such ERP account's. #}
crm_addresses as (
    select crm_id, address
    from erp_customers
    where crm_id is not null and address is not null
    qualify row_number() over (partition by crm_id order by updated_at desc, erp_code) = 1
),

unioned as (
    select
        'crm' as source_system,
        crm_customers.crm_id as source_id,
        crm_customers.company_name as source_name,
        crm_customers.contact_name,
        cast(null as varchar) as tax_id,
        cast(null as varchar) as linked_crm_id,
        crm_customers.phone,
        crm_customers.email,
        crm_customers.province_raw,
        crm_customers.city,
        {{ address_district('crm_addresses.address') }} as district
    from crm_customers
    left join crm_addresses using (crm_id)

    union all

    select
        'erp' as source_system,
        erp_code as source_id,
        legal_name as source_name,
        cast(null as varchar) as contact_name,
        tax_id,
        crm_id as linked_crm_id,
        phone,
        cast(null as varchar) as email,
        province_raw,
        city,
        {{ address_district('address') }} as district
    from erp_customers

    union all

    select
        'ecommerce' as source_system,
        buyers.buyer_key as source_id,
        nickname.buyer_nickname as source_name,
        -- a nickname is often the buyer's own name (王伟), which a CRM keeps as contact
        nickname.buyer_nickname as contact_name,
        cast(null as varchar) as tax_id,
        cast(null as varchar) as linked_crm_id,
        phone.buyer_phone as phone,
        email.buyer_email as email,
        province.ship_province_raw as province_raw,
        city.ship_city as city,
        district.ship_district as district
    from buyers
    left join buyer_buyer_nickname as nickname using (buyer_key)
    left join buyer_buyer_phone as phone using (buyer_key)
    left join buyer_buyer_email as email using (buyer_key)
    left join buyer_ship_province_raw as province using (buyer_key)
    left join buyer_ship_city as city using (buyer_key)
    left join buyer_ship_district as district using (buyer_key)
),

normalised as (
    select
        unioned.source_system || ':' || unioned.source_id as record_key,
        unioned.source_system,
        unioned.source_id,
        unioned.source_name,
        {{ normalize_company_name('unioned.source_name') }} as name_normalised,
        nullif(regexp_replace({{ to_halfwidth('unioned.contact_name') }}, '\s', '', 'g'), '')
            as contact_name,
        -- What exports type where a value is unknown (无, N/A, 0, 00000000000,
        -- 000000000000000000, - ) identifies nobody: only a licence number of 15 to 20
        -- characters, a phone of 7 digits or more and an address with an @ and a domain
        -- count, none of them one character repeated.
        case
            when {{ is_identifying_code('unioned.tax_id', '^[0-9A-Z]{15,20}$') }}
                then unioned.tax_id
        end as tax_id,
        unioned.linked_crm_id,
        -- a masked mobile (138****8000) is no full number, but its visible digits still count
        case
            when {{ is_identifying_code('unioned.phone', '^[0-9]{7,}$') }} then unioned.phone
        end as phone,
        case
            when regexp_matches(unioned.phone, '^1[3-9][0-9*]{9}$')
                then left(unioned.phone, 3) || right(unioned.phone, 4)
        end as mobile_visible_digits,
        case
            when regexp_matches(unioned.email, '^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$')
                then unioned.email
        end as email,
        split_part(unioned.email, '@', 1) in (select local_part from role_mailboxes)
            as email_is_role_mailbox,
        provinces.province,
        {{ city_key('unioned.city') }} as city,
        -- for people to read: the key drops spaces (Belo Horizonte → belohorizonte)
        nullif(trim(unioned.city), '') as city_as_written,
        -- an address that names only its city (杭州市东风路1号) has no district
        case
            when {{ city_key('unioned.district') }} is distinct from {{ city_key('unioned.city') }}
                then nullif(regexp_replace({{ to_halfwidth('unioned.district') }}, '\s', '', 'g'), '')
        end as district
    from unioned
    left join provinces
        on {{ province_short_form('unioned.province_raw') }} = provinces.province_short
),

{# Places a company name may start with: provinces (full and short), and every city
   known to the seed or to any record in its full form (广州市). A city's short form
   (广州) is only stripped from the records of that city, because short forms collide
   with trade names (东方市 and the trade name 东方). #}
province_prefixes as (
    select province as place from provinces
    union
    select province_short from provinces
),

city_prefixes as (
    select capital as place from provinces
    union
    select city || '市' from normalised where city is not null
),

without_province as (
    select
        normalised.record_key,
        coalesce(
            max_by(
                substr(normalised.name_normalised, length(province_prefixes.place) + 1),
                length(province_prefixes.place)
            ),
            any_value(normalised.name_normalised)
        ) as name_rest
    from normalised
    left join province_prefixes
        on starts_with(normalised.name_normalised, province_prefixes.place)
        and length(normalised.name_normalised) >= length(province_prefixes.place) + 2
    group by normalised.record_key
),

city_candidates as (
    select without_province.record_key, city_prefixes.place
    from without_province
    inner join city_prefixes
        on starts_with(without_province.name_rest, city_prefixes.place)

    union all

    select without_province.record_key, normalised.city as place
    from without_province
    inner join normalised using (record_key)
    where starts_with(without_province.name_rest, normalised.city)
),

without_city as (
    select
        without_province.record_key,
        coalesce(
            max_by(
                substr(without_province.name_rest, length(city_candidates.place) + 1),
                length(city_candidates.place)
            ),
            any_value(without_province.name_rest)
        ) as name_rest
    from without_province
    left join city_candidates
        on without_province.record_key = city_candidates.record_key
        and length(without_province.name_rest) >= length(city_candidates.place) + 2
    group by without_province.record_key
),

named as (
    select
        normalised.*,
        -- A bracketed place stays: 华通贸易（上海）有限公司 is a group's company registered in
        -- Shanghai, another legal entity than 上海市华通贸易有限公司. Only its 市 goes.
        nullif(regexp_replace(without_city.name_rest, '市\)', ')', 'g'), '') as name_core_full
    from normalised
    inner join without_city using (record_key)
),

cored as (
    select
        * exclude (name_core_full),
        case
            -- platforms append digits to taken nicknames (liubin_4737, 星星点灯509)
            when source_system = 'ecommerce'
                then coalesce(nullif(regexp_replace(name_core_full, '[0-9]+$', ''), ''), name_core_full)
            else name_core_full
        end as name_core,
        -- what people call a company: its name without the registered place (华通贸易)
        nullif(regexp_replace(name_core_full, '\([^()]*\)', '', 'g'), '') as name_short
    from named
),

{# A phone or e-mail on many records names a place (a switchboard, a shared mailbox,
   a forwarder's desk), not a customer, and a licence number on many records is a
   made-up one: it links nothing by itself. #}
tax_id_use as (
    select tax_id, count(*) as records
    from cored
    where tax_id is not null
    group by tax_id
),

phone_use as (
    select phone, count(*) as records
    from cored
    where phone is not null
    group by phone
),

email_use as (
    select email, count(*) as records
    from cored
    where email is not null
    group by email
),

final as (
    select
        cored.record_key,
        cored.source_system,
        cored.source_id,
        cored.source_name,
        cored.name_normalised,
        cored.name_core,
        cored.name_short,
        cored.contact_name,
        cored.tax_id,
        coalesce(tax_id_use.records >= {{ var('identity_shared_contact_min_records') }}, false)
            as tax_id_is_shared,
        cored.linked_crm_id,
        cored.phone,
        coalesce(phone_use.records >= {{ var('identity_shared_contact_min_records') }}, false)
            as phone_is_shared,
        cored.mobile_visible_digits,
        cored.email,
        coalesce(cored.email_is_role_mailbox, false) as email_is_role_mailbox,
        coalesce(email_use.records >= {{ var('identity_shared_contact_min_records') }}, false)
            as email_is_shared,
        cored.province,
        cored.city,
        cored.city_as_written,
        cored.district
    from cored
    left join tax_id_use using (tax_id)
    left join phone_use using (phone)
    left join email_use using (email)
)

select * from final
