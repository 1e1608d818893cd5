-- Every cause that can change a pet's check (int_pets_checked), with when it changed: the pet
-- row itself, or its customer's check. The changes views of the pet's children read this,
-- not the check's changed_at, which only a scan of every pet and customer computes (macro
-- kw_change_causes).
{{ config(materialized='view') }}

{{ kw_change_causes(ref('stg_app__pets'), 'pet_id', [
    {'relation': ref('int_customer_changes'), 'on': 'customer_id'},
]) }}
