-- The invoice lines int_invoice_lines_checked keeps out, with their reason: what
-- dq.quarantined_rows lists for raw.invoice_lines. Patched by key (int_invoice_line_changes):
-- a build re-checks only the lines whose row or invoice changed, where quarantined_rows read
-- the check over every line each night. A line that became clean leaves the table in the
-- patch.
{{ config(
    materialized='patched_by_key',
    unique_key='invoice_line_id',
    changes_from='int_invoice_line_changes',
    indexes=[{'columns': ['invoice_line_id'], 'unique': True}],
) }}
-- depends_on: {{ ref('int_invoice_line_changes') }}

{{ kw_quarantined_rows_of(ref('int_invoice_lines_checked'), 'invoice_line_id') }}
