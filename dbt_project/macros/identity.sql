{# Normalisations for identity resolution (models/intermediate/identity). #}

{#
  A company name reduced to what tells companies apart: half-width, lower case, one
  kind of bracket, no legal form (有限公司, 有限责任公司, 股份有限公司, 集团, Co., Ltd.,
  Company Limited …), no spaces or punctuation. Place prefixes and bracketed branch
  places are removed later, against the known places (int_customer_source_records):
  广州市华通贸易有限公司, 华通贸易（广州）有限公司 and 华通贸易有限责任公司 all end as 华通贸易.
  Legal forms are removed wherever they stand, because a branch name goes on after
  them (华通贸易有限公司上海分公司).
#}
{% macro normalize_company_name(expression) -%}
    {%- set text = "lower(translate(" ~ to_halfwidth(expression) ~ ", '【】〔〕[]', '()()()'))" -%}
    {%- set chinese_forms = "regexp_replace(" ~ text ~ ", '(股份有限公司|有限责任公司|有限公司|股份公司|集团公司|集团|公司)', '', 'g')" -%}
    {%- set english_forms = "regexp_replace(" ~ chinese_forms ~ ", '\\b(co|company|corp|corporation|inc|incorporated|ltd|limited|llc|plc|group|holdings?)\\b\\.?', '', 'g')" -%}
    {%- set bare = "regexp_replace(" ~ english_forms ~ ", '[\\s\\.,，。、·&\\-_/''\"]', '', 'g')" -%}
    nullif(replace({{ bare }}, '()', ''), '')
{%- endmacro %}

{# A city as a key: half-width, no spaces, without the 市 that exports add or leave out. #}
{% macro city_key(expression) -%}
    nullif(regexp_replace(regexp_replace({{ to_halfwidth(expression) }}, '\s', '', 'g'), '市$', ''), '')
{%- endmacro %}

{#
  The district (区, 县, 旗 or county-level 市) an address names after its optional
  province and city: 广东省深圳市南山区科技园路1号 -> 南山区, 上海市浦东新区… -> 浦东新区,
  昆山市玉山镇… -> 昆山市. Null when the address names none.
#}
{% macro address_district(expression) -%}
    nullif(
        regexp_extract(
            regexp_replace({{ to_halfwidth(expression) }}, '\s', '', 'g'),
            '^(?:[^省市区县]{2,8}?(?:省|自治区))?(?:[^省市区县]{2,5}?市)?([^省市区县旗]{1,6}?(?:区|县|旗|市))',
            1
        ),
        ''
    )
{%- endmacro %}
