{#
  The rows of two relations with the same columns that are not in both (either way): what
  an incremental model's built rows say against what its inputs say now.
#}
{% macro differing_rows(left, right) %}
    (select * from {{ left }} except select * from {{ right }})
    union all
    (select * from {{ right }} except select * from {{ left }})
{% endmacro %}
