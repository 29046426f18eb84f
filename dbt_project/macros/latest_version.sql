{#
  Raw tables are append-only: every delivered version of a row is kept with its drop
  date and line. The current version of a key is the one with the newest updated_at;
  without updated_at (or on a tie), the one from the newest drop, then the last line.
  It keeps first_drop_date, the drop that delivered the key first (any version): the
  earliest `first_drop_column` of the key's rows, which an incremental model sets to the
  stored first drop of the versions it already holds.
#}
{% macro latest_version(relation, key_columns, has_updated_at=true, first_drop_column='source_drop_date') %}
    select
        *{% if first_drop_column != 'source_drop_date' %} exclude ({{ first_drop_column }}){% endif %},
        min({{ first_drop_column }}) over (partition by {{ key_columns | join(', ') }})
            as first_drop_date
    from {{ relation }}
    qualify row_number() over (
        partition by {{ key_columns | join(', ') }}
        order by
            {% if has_updated_at %}updated_at desc nulls last,{% endif %}
            source_drop_date desc,
            source_line desc
    ) = 1
{% endmacro %}
