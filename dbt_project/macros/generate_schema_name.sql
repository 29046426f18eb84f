{# Schemas are named for their layer (staging, intermediate, marts, reference), not
   prefixed with the target's schema: the warehouse file holds one environment. #}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name if custom_schema_name else target.schema }}
{%- endmacro %}
