{#-
    Staff type suite labels freely ("Standard Plus Suite", "STD+", "Std. Plus", "cat-condo").
    This maps such a label to a resource suite_type code (standard, standard_plus, luxury,
    cat_condo, daycare), or null when it cannot be recognised. Steps: Unicode NFKC (full-width
    letters) and lower case; "+" read as "plus"; punctuation to spaces; filler words (suite,
    ste, room, kennel, dog, doggy) dropped; abbreviations expanded (std, lux); the remaining
    words joined by "_" and looked up. Covered by the unit tests of int_reservations_suite_matched.
-#}
{% macro normalize_suite_type(label) -%}
    {%- set lowered -%}
        regexp_replace(lower(normalize(coalesce({{ label }}, ''), nfkc)), '\+', ' plus ', 'g')
    {%- endset -%}
    {%- set words -%}
        regexp_replace(regexp_replace({{ lowered }}, '[^a-z0-9]+', ' ', 'g'), '\m(suites?|ste|room|kennel|dog|doggy)\M', ' ', 'g')
    {%- endset -%}
    {%- set expanded -%}
        regexp_replace(regexp_replace({{ words }}, '\m(std|stnd|stdrd)\M', 'standard', 'g'), '\mlux\M', 'luxury', 'g')
    {%- endset -%}
    case regexp_replace(btrim({{ expanded }}), '\s+', '_', 'g')
        when 'standard' then 'standard'
        when 'standard_plus' then 'standard_plus'
        when 'standardplus' then 'standard_plus'
        when 'luxury' then 'luxury'
        when 'deluxe' then 'luxury'
        when 'cat_condo' then 'cat_condo'
        when 'catcondo' then 'cat_condo'
        when 'condo' then 'cat_condo'
        when 'daycare' then 'daycare'
        when 'day_care' then 'daycare'
    end
{%- endmacro %}
