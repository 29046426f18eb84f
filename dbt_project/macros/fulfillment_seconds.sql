{# Seconds from ordered to delivered, the fulfillment cycle time; null until delivered, and
   null for an order delivered before it was ordered: its timestamps are wrong (a clock or
   time zone set wrong, a date typed by hand), not a negative cycle time. #}
{% macro fulfillment_seconds(ordered_at, delivered_at) -%}
    case when {{ delivered_at }} >= {{ ordered_at }}
        then date_diff('second', {{ ordered_at }}, {{ delivered_at }}) end
{%- endmacro %}
