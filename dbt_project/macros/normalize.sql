{# Normalisations shared by staging models (identity resolution depends on them). #}

{# Full-width ASCII (！ to ～) and the ideographic space to half-width. #}
{% macro to_halfwidth(expression) -%}
    translate(
        replace({{ expression }}, chr(12288), ' '),
        array_to_string(list_transform(range(65281, 65375), lambda c: chr(c::integer)), ''),
        array_to_string(list_transform(range(33, 127), lambda c: chr(c::integer)), '')
    )
{%- endmacro %}

{# Phone numbers as digits only, without the country code. Landlines keep their area code
   with its leading 0: 021-6234 5678, +86 21 6234 5678, +86 (0)21 6234 5678 and
   86-21-6234-5678 -> 02162345678. Marketplaces mask the middle of a mobile (138****8000,
   138xxxx8000): the mask stays as `*`, so a masked number never passes for a short full
   one. An extension (转 801, ext. 801, x801, #801, or a group after a complete landline:
   021-6234 5678-801) is dropped: it names a desk, not another line. A field holding
   several numbers (13800138000/13900139000, …；…, …、…) keeps the first: digits run
   together would be no number at all. #}
{% macro normalize_phone(expression) -%}
    {%- set masked = "regexp_replace(" ~ to_halfwidth(expression) ~ ", '([0-9])[xX]{4}([0-9])', '\\1****\\2')" -%}
    {%- set first_number = "regexp_extract(" ~ masked ~ ", '[^/;；,，、|或]*[0-9][^/;；,，、|或]*')" -%}
    {%- set no_ext = "regexp_replace(" ~ first_number ~ ", '\\s*(转|分机|ext\\.?|x|#)\\s*[0-9]{1,6}\\s*$', '', 'i')" -%}
    {#- the country code as written: +86, 0086, (86), or 86 set apart by a separator -#}
    {%- set national = "regexp_replace(" ~ no_ext ~ ", '^\\s*(\\+\\s*86|00\\s*86|\\(\\s*(\\+|00)?\\s*86\\s*\\)|86[\\s.-]+)', '')" -%}
    {%- set has_country_code = "(" ~ national ~ " <> " ~ no_ext ~ ")" -%}
    {%- set full = phone_digits(national, has_country_code) -%}
    {#- a last group of 1-5 digits after a complete landline is its extension -#}
    {%- set head = phone_digits("regexp_extract(" ~ national ~ ", '^(.*[0-9])[\\s-]+[0-9]{1,5}\\s*$', 1)", has_country_code) -%}
    nullif(
        case
            when not regexp_matches({{ full }}, '[0-9]') then null
            when not regexp_matches({{ full }}, '{{ complete_phone_pattern() }}')
                and regexp_matches({{ head }}, '^0[1-9][0-9]{8,10}$')
                then {{ head }}
            else {{ full }}
        end,
        ''
    )
{%- endmacro %}

{# The digits (and mask) of a phone `text` without its country code, the landline's
   trunk 0 restored when a country code stood before it. Glued forms (8613800138000)
   lose the 86 only in front of a mobile, where it cannot be part of the number. #}
{% macro phone_digits(text, has_country_code) -%}
    {%- set digits = "regexp_replace(" ~ text ~ ", '[^0-9*]', '', 'g')" -%}
    case
        when {{ digits }} = '' then ''
        when {{ has_country_code }}
            then case
                when regexp_matches({{ digits }}, '^1[3-9][0-9*]{9}$') or {{ digits }} like '0%'
                    then {{ digits }}
                else '0' || {{ digits }}
            end
        when regexp_matches({{ digits }}, '^861[3-9][0-9*]{9}$') then substr({{ digits }}, 3)
        else {{ digits }}
    end
{%- endmacro %}

{# A whole Chinese number: a mobile (masked or not), or a landline of 0, area code and
   local number (10 to 12 digits). #}
{% macro complete_phone_pattern() -%}
    ^(1[3-9][0-9*]{9}|0[1-9][0-9]{8,10})$
{%- endmacro %}

{# Emails: lower case, no spaces, the address alone: a display name around it
   (王伟 <wang@huatong.cn>, mailto:) goes, and of several addresses in one field
   (a@x.cn; b@y.cn, a@x.cn b@y.cn) the first is kept. A value without an @ stays as it
   was given, without spaces. #}
{% macro normalize_email(expression) -%}
    {%- set text = to_halfwidth(expression) -%}
    {#- spaces typed around the @ or a dot belong to the address (wang @ huatong.cn) -#}
    {%- set joined = "regexp_replace(" ~ text ~ ", '\\s*([@.])\\s*', '\\1', 'g')" -%}
    {%- set address = "regexp_extract(" ~ joined ~ ", '[^\\s<>;,，；、/|()（）\"：:@]+@[^\\s<>;,，；、/|()（）\"：:@]+')" -%}
    nullif(lower(coalesce(nullif({{ address }}, ''), regexp_replace({{ text }}, '\s', '', 'g'))), '')
{%- endmacro %}

{# An identifier typed by hand as a key to compare on: half-width, upper case, no spaces. #}
{% macro id_key(expression) -%}
    nullif(upper(regexp_replace({{ to_halfwidth(expression) }}, '\s', '', 'g')), '')
{%- endmacro %}

{# A normalised code that can identify someone: it has the expected shape (a regular
   expression) and is not one character repeated (0000000, 000000000000000000), the
   placeholder exports carry where the value is unknown. #}
{% macro is_identifying_code(expression, shape) -%}
    (regexp_matches({{ expression }}, '{{ shape }}')
        and replace({{ expression }}, left({{ expression }}, 1), '') <> '')
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

{# A province key (province_key) as the seed's short form: without 省, 市 or the
   autonomous region's name, so a form typed by hand (广西省, 广西自治区, 内蒙古自治区,
   北京市) matches `province_short` as 广西壮族自治区 and 广西 do. #}
{% macro province_short_form(key) -%}
    regexp_replace({{ key }}, '(省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)$', '')
{%- endmacro %}
