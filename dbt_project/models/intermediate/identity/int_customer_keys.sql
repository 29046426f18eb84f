{#
  The customer each source record belongs to. customer_key is derived from the cluster's
  anchor record (its CRM account first, then its ERP account, then a buyer account; the
  lowest id within a system), so it stays the same from build to build
  while that record stays in the customer. match_rule and match_score say how the record
  was attached: its strongest link (crm_id, tax_id, phone, email, company_name, then splink
  with the best probability), or singleton when nothing links it.
#}

with source_records as (
    select * from {{ ref('int_customer_source_records') }}
),

clusters as (
    select * from {{ ref('int_identity_clusters') }}
),

deterministic_links as (
    select * from {{ ref('int_identity_links__deterministic') }}
),

probabilistic_links as (
    select * from {{ ref('int_identity_links__probabilistic') }}
),

links as (
    select
        record_key_l,
        record_key_r,
        match_rule,
        match_score,
        case match_rule
            when 'crm_id' then 1 when 'tax_id' then 2 when 'phone' then 3 when 'email' then 4
            when 'company_name' then 5
        end as rule_rank
    from deterministic_links

    union all

    select record_key_l, record_key_r, 'splink', match_probability, 6
    from probabilistic_links
),

record_links as (
    select record_key_l as record_key, match_rule, match_score, rule_rank from links
    union all
    select record_key_r as record_key, match_rule, match_score, rule_rank from links
),

best_link as (
    select record_key, match_rule, match_score
    from record_links
    qualify row_number() over (
        partition by record_key order by rule_rank, match_score desc
    ) = 1
),

anchors as (
    select
        clusters.cluster_id,
        arg_min(
            source_records.record_key,
            case source_records.source_system when 'crm' then 1 when 'erp' then 2 else 3 end
            || ':' || source_records.source_id
        ) as anchor_record_key
    from clusters
    inner join source_records using (record_key)
    group by clusters.cluster_id
),

final as (
    select
        source_records.source_system,
        source_records.source_id,
        'cust_' || left(md5(anchors.anchor_record_key), 16) as customer_key,
        coalesce(best_link.match_rule, 'singleton') as match_rule,
        cast(coalesce(best_link.match_score, 1.0) as double) as match_score
    from source_records
    inner join clusters using (record_key)
    inner join anchors using (cluster_id)
    left join best_link using (record_key)
)

select * from final
