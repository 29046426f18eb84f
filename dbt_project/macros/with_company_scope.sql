{# Every row twice: once for its warehouse and once for the whole company ('ALL'), so a
   KPI grouped by warehouse_id comes out per warehouse and company-wide in one pass. #}
{% macro with_company_scope(relation, warehouse_column='warehouse_id') %}
    select * replace (coalesce({{ warehouse_column }}, '{{ var("unknown_member_key") }}')
                      as {{ warehouse_column }})
    from {{ relation }}
    union all
    select * replace ('ALL' as {{ warehouse_column }})
    from {{ relation }}
{% endmacro %}
