{#
  Pairs of source records that are certainly the same customer, by the first rule that
  holds, in this order: the ERP account names its CRM account (crm_id); the same
  business licence (tax_id); the same full phone number; the same personal e-mail in
  the same city; a buyer account named after a company in the company's city, or a
  company name in English against the same name in Chinese in one city (company_name). A phone or e-mail on many records (a switchboard, info@…), a role
  mailbox or a licence number on many records links nothing here: it would chain
  strangers together.
#}

with source_records as (
    select * from {{ ref('int_customer_source_records') }}
),

latin_names as (
    select * from {{ ref('int_customer_name_latin') }}
),

crm_id_pairs as (
    select
        erp.record_key as record_key_a,
        crm.record_key as record_key_b,
        'crm_id' as match_rule,
        1 as rule_rank
    from source_records as erp
    inner join source_records as crm
        on erp.linked_crm_id = crm.source_id
        and crm.source_system = 'crm'
    where erp.source_system = 'erp'
),

tax_id_pairs as (
    select
        a.record_key as record_key_a,
        b.record_key as record_key_b,
        'tax_id' as match_rule,
        2 as rule_rank
    from source_records as a
    inner join source_records as b
        on a.tax_id = b.tax_id
        and a.record_key < b.record_key
    where not a.tax_id_is_shared
),

phone_pairs as (
    select
        a.record_key as record_key_a,
        b.record_key as record_key_b,
        'phone' as match_rule,
        3 as rule_rank
    from source_records as a
    inner join source_records as b
        on a.phone = b.phone
        and a.record_key < b.record_key
    where not a.phone_is_shared
),

email_pairs as (
    select
        a.record_key as record_key_a,
        b.record_key as record_key_b,
        'email' as match_rule,
        4 as rule_rank
    from source_records as a
    inner join source_records as b
        on a.email = b.email
        and a.record_key < b.record_key
        -- common names make the same personal address twice (wang_jing@outlook.com)
        and a.city = b.city
    where not a.email_is_shared and not a.email_is_role_mailbox
),

{# A marketplace buyer whose nickname is a company's registered name without place and
   legal form (鑫源贸易 for 杭州市鑫源贸易有限公司), shipping to the company's city. Trade
   name plus industry tells companies apart; two companies of one trade name in one city
   differ in industry (鑫源贸易 / 鑫源物流). A group's registered branch (鑫源贸易（上海）)
   answers to its short name only when no company of the city has that name as its own:
   上海鑫源贸易 is another legal entity. #}
companies as (
    select record_key, name_core, name_short, city
    from source_records
    where source_system in ('crm', 'erp') and city is not null
),

buyers as (
    select record_key, name_core, city
    from source_records
    where source_system = 'ecommerce' and name_core is not null and city is not null
),

company_name_pairs as (
    select
        companies.record_key as record_key_a,
        buyers.record_key as record_key_b,
        'company_name' as match_rule,
        5 as rule_rank
    from buyers
    inner join companies
        on buyers.city = companies.city
        and (
            buyers.name_core = companies.name_core
            or (
                buyers.name_core = companies.name_short
                and not exists (
                    select 1 from companies as own
                    where own.city = buyers.city and own.name_core = buyers.name_core
                )
            )
        )
),

{# A company name typed in English against the same name in Chinese (Beijing Haichuan
   Hotel Management Co., Ltd. / 北京市海川酒店管理有限公司), in one city: the same trade
   name in pinyin, industry and branch place (int_customer_name_latin). #}
cross_script_pairs as (
    select
        latin.record_key as record_key_a,
        han.record_key as record_key_b,
        'company_name' as match_rule,
        5 as rule_rank
    from latin_names as latin
    inner join latin_names as han
        on latin.name_latin = han.name_latin
        and latin.name_is_latin
        and not han.name_is_latin
    inner join source_records as latin_record
        on latin.record_key = latin_record.record_key
    inner join source_records as han_record
        on han.record_key = han_record.record_key
        and latin_record.city = han_record.city
    where latin_record.source_system in ('crm', 'erp')
),

all_pairs as (
    select * from crm_id_pairs
    union all
    select * from tax_id_pairs
    union all
    select * from phone_pairs
    union all
    select * from email_pairs
    union all
    select * from company_name_pairs
    union all
    select * from cross_script_pairs
),

final as (
    select
        least(record_key_a, record_key_b) as record_key_l,
        greatest(record_key_a, record_key_b) as record_key_r,
        match_rule,
        cast(1.0 as double) as match_score
    from all_pairs
    qualify row_number() over (
        partition by least(record_key_a, record_key_b), greatest(record_key_a, record_key_b)
        order by rule_rank
    ) = 1
)

select * from final
