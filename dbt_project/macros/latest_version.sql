{#
  Raw tables are append-only: every delivered version of a row is kept with its drop
  date and line. The current version of a key is the one with the newest updated_at;
  without updated_at (or on a tie), the one from the newest drop, then the last line.
#}
{% macro latest_version(relation, key_columns, has_updated_at=true) %}
    select *
    from {{ relation }}
    qualify row_number() over (
        partition by {{ key_columns | join(', ') }}
        order by
            {% if has_updated_at %}updated_at desc nulls last,{% endif %}
            source_drop_date desc,
            source_line desc
    ) = 1
{% endmacro %}
