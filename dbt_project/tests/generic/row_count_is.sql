{#
  The model has exactly `expected` rows (a table that holds one stored object, say).
#}
{% test row_count_is(model, expected) %}
select count(*) as row_count
from {{ model }}
having count(*) <> {{ expected }}
{% endtest %}
