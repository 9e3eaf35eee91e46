{#-
    Row-level rules as data: each rule is {id, condition, reason}. Renders an array of the
    ids (or reasons) of the rules a row breaks; an empty array means the row passes. A rule
    whose condition is null (unknown) does not fire: pair it with a rule for missing values.
-#}
{% macro mp_failed_rules(rules, field='id') -%}
    filter(
        array(
            {%- for rule in rules %}
            case when {{ rule.condition }} then '{{ rule[field] | replace("'", "\\'") }}' end
            {%- if not loop.last %},{% endif %}
            {%- endfor %}
        ),
        failed -> failed is not null
    )
{%- endmacro %}
