{#
  Fails for every combination of `combination_of_columns` that occurs more than once.
  The project's own version of dbt_utils' test (the dbt package hub is out of reach).
#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
    select {{ combination_of_columns | join(', ') }}, count(*) as occurrences
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1
{% endtest %}
