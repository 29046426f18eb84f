{#
  Pairs of source records that are certainly the same customer, by the first rule that
  holds, in this order: the ERP account names its CRM account (crm_id); the same
  business licence (tax_id); the same full phone number; the same personal e-mail in
  the same city. A phone or e-mail on many records (a switchboard, info@…) or a role
  mailbox links nothing here: it would chain strangers together.
#}

with source_records as (
    select * from {{ ref('int_customer_source_records') }}
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

all_pairs as (
    select * from crm_id_pairs
    union all
    select * from tax_id_pairs
    union all
    select * from phone_pairs
    union all
    select * from email_pairs
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
