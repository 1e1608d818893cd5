"""When a raw row last changed for the warehouse: its extraction, or its deletion in the source.

The one definition the extraction (its index on raw tables) and the changed-only build planner
(each raw table's newest change) share; dbt's macro kw_extraction_changed_at says the same through
the staging views' names. A module of its own: the planner runs before every nightly dbt build,
which needs nothing else of the extraction package (SQLAlchemy and the source schema: 0.36 s).
"""

from psycopg import sql

CHANGED_AT = sql.SQL("greatest(_extracted_at, _deleted_in_source_at)")
