{# An RFM score 1–5 over all rows: 1 + ⌊5 × the share of rows with a lower value⌋. Rows
   with equal values get one score (a rank, not a row number); otherwise the scores are
   quintiles, as ntile(5) would give. #}
{% macro rfm_score(value) -%}
    cast(1 + floor(5 * (rank() over (order by {{ value }}) - 1) / count(*) over ()) as bigint)
{%- endmacro %}
