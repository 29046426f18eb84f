{#
  Each feedback with the category, owning department and severity of the keyword its
  comment contains (seed feedback_keywords), and why.

  Routing: a complaint outranks praise, then the most severe complaint, then the longest
  (most specific) keyword. Chinese keywords match anywhere in the comment; English ones
  (plain ASCII) only as whole words, case-insensitively, so "late" does not fire on
  "chocolate". A comment matching nothing (or blank) is category "other" for triage.
  Praise words with a low score (at or below feedback_severity_medium_max_score)
  contradict each other: they go to triage too, so nobody misses an unhappy customer.

  Severity: the higher of the keyword's severity and the score's (a score at or below
  feedback_severity_high_max_score is high, at or below feedback_severity_medium_max_score
  medium, else low); severity_reason says which one decided.
#}
with feedback as (
    select * from {{ ref('stg_crm__feedback') }}
),

comments as (
    select feedback_id, lower(comment) as comment_lower
    from feedback
    where comment is not null
),

keywords as (
    select
        keyword,
        lower(keyword) as keyword_lower,
        regexp_matches(keyword, '^[ -~]+$') as is_ascii,
        -- only for English keywords: escaped Chinese characters are no valid pattern
        case when regexp_matches(keyword, '^[ -~]+$') then
            '\b' || regexp_replace(lower(keyword), '([^a-z0-9 ])', '\\\1', 'g') || '\b'
        end as whole_word_pattern,
        category,
        department,
        severity,
        sentiment = 'negative' as is_complaint,
        case severity when 'high' then 3 when 'medium' then 2 else 1 end as severity_rank
    from {{ ref('feedback_keywords') }}
),

-- Pairs of comment and keyword where the comment contains the keyword: a cheap test on
-- every pair. The whole-word regular expression, compiled per row because its pattern is
-- a column, runs after the join on these few pairs (in the join condition it ran on every
-- pair: 4.4 of 5.3 s at scale 10).
candidates as (
    select
        comments.feedback_id,
        comments.comment_lower,
        keywords.*
    from comments
    inner join keywords on contains(comments.comment_lower, keywords.keyword_lower)
),

matches as (
    select
        feedback_id,
        keyword,
        category,
        department,
        is_complaint,
        severity,
        severity_rank,
        row_number() over (
            partition by feedback_id
            order by is_complaint desc, severity_rank desc, length(keyword) desc, keyword
        ) as preference
    from candidates
    where case when is_ascii then regexp_matches(comment_lower, whole_word_pattern) else true end
),

scored as (
    select
        feedback.*,
        case
            when feedback.score <= {{ var('feedback_severity_high_max_score') }} then 3
            when feedback.score <= {{ var('feedback_severity_medium_max_score') }} then 2
            else 1
        end as score_severity_rank
    from feedback
),

routed as (
    select
        scored.*,
        matches.keyword as matched_keyword,
        matches.severity as keyword_severity,
        -- praise with a low score is contradictory: a person reads it
        matches.keyword is not null
        and (matches.is_complaint
             or scored.score > {{ var('feedback_severity_medium_max_score') }})
            as is_routed_by_keyword,
        coalesce(matches.severity_rank, 1) as keyword_severity_rank,
        matches.category as keyword_category,
        matches.department as keyword_department
    from scored
    left join matches
        on scored.feedback_id = matches.feedback_id and matches.preference = 1
),

final as (
    select
        feedback_id,
        crm_id,
        order_ref,
        channel,
        submitted_at,
        score,
        comment,
        matched_keyword,
        case when is_routed_by_keyword then keyword_category else 'other' end as category,
        case when is_routed_by_keyword then keyword_department else 'triage' end as department,
        case greatest(keyword_severity_rank, score_severity_rank)
            when 3 then 'high' when 2 then 'medium' else 'low'
        end as severity,
        case
            when matched_keyword is null and comment is null
                then 'no comment; score ' || score
            when matched_keyword is null then 'no keyword matched; score ' || score
            when not is_routed_by_keyword
                then 'praise "' || matched_keyword || '" contradicts score ' || score
            when keyword_severity_rank >= score_severity_rank
                then 'keyword "' || matched_keyword || '" is ' || keyword_severity
            else 'score ' || score || ' outranks keyword "' || matched_keyword || '" ('
                || keyword_severity || ')'
        end as severity_reason,
        score >= 4 as is_satisfied,
        case
            when score = 5 then 'promoter'
            when score <= 3 then 'detractor'
            else 'passive'
        end as nps_group
    from routed
)

select * from final
