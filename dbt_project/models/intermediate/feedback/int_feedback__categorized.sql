-- Each feedback with the category, owning department and severity of the keywords its
-- comment contains (seed feedback_keywords): a complaint outranks praise, the most severe
-- complaint wins; a low score raises the severity.
with feedback as (
    select * from {{ ref('stg_crm__feedback') }}
),

keywords as (
    select
        lower(keyword) as keyword,
        category,
        department,
        severity,
        sentiment = 'negative' as is_complaint,
        case severity when 'high' then 3 when 'medium' then 2 else 1 end as severity_rank
    from {{ ref('feedback_keywords') }}
),

matches as (
    select
        feedback.feedback_id,
        keywords.category,
        keywords.department,
        keywords.severity_rank,
        row_number() over (
            partition by feedback.feedback_id
            -- complaints first, the most severe first; then the longest (most specific) keyword
            order by keywords.is_complaint desc, keywords.severity_rank desc,
                length(keywords.keyword) desc,
                keywords.keyword
        ) as preference
    from feedback
    inner join keywords on contains(lower(feedback.comment), keywords.keyword)
),

final as (
    select
        feedback.feedback_id,
        feedback.crm_id,
        feedback.order_ref,
        feedback.channel,
        feedback.submitted_at,
        feedback.score,
        feedback.comment,
        coalesce(matches.category, 'other') as category,
        coalesce(matches.department, 'triage') as department,
        case greatest(
            coalesce(matches.severity_rank, 1),
            case when feedback.score <= 1 then 3 when feedback.score = 2 then 2 else 1 end
        )
            when 3 then 'high' when 2 then 'medium' else 'low'
        end as severity,
        feedback.score >= 4 as is_satisfied,
        case
            when feedback.score = 5 then 'promoter'
            when feedback.score <= 3 then 'detractor'
            else 'passive'
        end as nps_group
    from feedback
    left join matches
        on feedback.feedback_id = matches.feedback_id and matches.preference = 1
)

select * from final
