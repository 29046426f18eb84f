{#
  The newest drop an incremental model has already absorbed, from its marker column.
  A table built before the marker existed has none: then everything counts as new.
#}
{% macro last_loaded_drop(marker_column) %}
    {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
    {%- if marker_column in columns -%}
        select coalesce(max({{ marker_column }}), date '1900-01-01') as last_drop from {{ this }}
    {%- else -%}
        select date '1900-01-01' as last_drop
    {%- endif -%}
{% endmacro %}
