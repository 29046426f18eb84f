{# Normalisations shared by staging models (identity resolution depends on them). #}

{# Full-width ASCII (！ to ～) and the ideographic space to half-width. #}
{% macro to_halfwidth(expression) -%}
    translate(
        replace({{ expression }}, chr(12288), ' '),
        array_to_string(list_transform(range(65281, 65375), lambda c: chr(c::integer)), ''),
        array_to_string(list_transform(range(33, 127), lambda c: chr(c::integer)), '')
    )
{%- endmacro %}

{# Phone numbers as digits only, without the country code (+86, 0086, 86). Landlines keep
   their area code with its leading 0: 021-6234 5678 and +86 21 6234 5678 -> 02162345678.
   Marketplaces mask the middle of a mobile (138****8000, 138xxxx8000): the mask stays as
   `*`, so a masked number never passes for a short full one. An extension (转 801,
   ext. 801, x801, #801) is dropped: it names a desk, not another line. #}
{% macro normalize_phone(expression) -%}
    {%- set masked = "regexp_replace(" ~ to_halfwidth(expression) ~ ", '([0-9])[xX]{4}([0-9])', '\\1****\\2')" -%}
    {%- set no_ext = "regexp_replace(" ~ masked ~ ", '\\s*(转|分机|ext\\.?|x|#)\\s*[0-9]{1,6}\\s*$', '', 'i')" -%}
    {%- set digits = "regexp_replace(" ~ no_ext ~ ", '[^0-9+*]', '', 'g')" -%}
    {%- set national = "regexp_replace(" ~ digits ~ ", '^(\\+86|0086)', '')" -%}
    nullif(
        case
            when not regexp_matches({{ digits }}, '[0-9]') then null
            when regexp_matches({{ digits }}, '^(\+86|0086)')
                then case
                    when regexp_matches({{ national }}, '^1[3-9][0-9*]{9}$') then {{ national }}
                    else '0' || {{ national }}
                end
            when regexp_matches({{ digits }}, '^861[3-9][0-9*]{9}$') then substr({{ digits }}, 3)
            else replace({{ digits }}, '+', '')
        end,
        ''
    )
{%- endmacro %}

{# Emails: no spaces, lower case. #}
{% macro normalize_email(expression) -%}
    nullif(lower(regexp_replace({{ to_halfwidth(expression) }}, '\s', '', 'g')), '')
{%- endmacro %}

{# Text fields: trimmed, blank as null. #}
{% macro clean_text(expression) -%}
    nullif(trim({{ expression }}), '')
{%- endmacro %}

{# A province as delivered (广东省, 广东, 广东省 with spaces, full-width) matched to the
   seed's canonical name by its full or short form. Use with a join on `province_key`. #}
{% macro province_key(expression) -%}
    nullif(regexp_replace({{ to_halfwidth(expression) }}, '\s', '', 'g'), '')
{%- endmacro %}
