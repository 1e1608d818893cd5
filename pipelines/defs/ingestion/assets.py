"""One Dagster asset per source table, `raw/<table>`, all made by one factory from the registry.

The assets are thin: `load_table` does the work and guarantees crash safety; the asset
maps its result to materialization metadata and its errors to retry or no retry.
"""

from datetime import timedelta

import dagster as dg

from pipelines.defs.resources import PostgresResource
from pipelines.lib.extract import REGISTRY, LoadResult, TableSpec, load_table
from pipelines.lib.extract.errors import is_transient
from pipelines.settings import get_settings

GROUP = "raw"
# Steps that write raw share one concurrency pool (slots set in dagster.yaml): an hourly
# and a nightly run never load raw at the same time; per-table advisory locks back it up.
POOL = "warehouse_raw"

# Connection errors only (see is_transient): 3 more tries, 5 s, 10 s, 20 s apart.
RETRY_ON_CONNECTION_ERRORS = dg.RetryPolicy(max_retries=3, delay=5, backoff=dg.Backoff.EXPONENTIAL)


class ExtractConfig(dg.Config):
    """Run options of one raw asset (the same switches as `warehouse extract`)."""

    full_refresh: bool = False
    reconcile_keys: bool = False


def asset_key(table: str) -> dg.AssetKey:
    return dg.AssetKey([GROUP, table])


def materialization_metadata(result: LoadResult) -> dict[str, dg.MetadataValue]:
    """The figures every materialization of a raw asset reports."""

    def instant(value):
        return dg.MetadataValue.timestamp(value) if value is not None else dg.MetadataValue.text("none")

    return {
        "mode": dg.MetadataValue.text(result.mode),
        "batch_id": dg.MetadataValue.text(str(result.batch_id)),
        "rows_read": dg.MetadataValue.int(result.rows_read),
        "rows_inserted": dg.MetadataValue.int(result.rows_inserted),
        "rows_updated": dg.MetadataValue.int(result.rows_updated),
        "rows_flagged_deleted": dg.MetadataValue.int(result.rows_flagged_deleted),
        "bytes": dg.MetadataValue.int(result.bytes),
        "seconds": dg.MetadataValue.float(result.seconds),
        "watermark_before": instant(result.watermark_before),
        "watermark_after": instant(result.watermark_after),
        "columns_added": dg.MetadataValue.text(", ".join(result.columns_added) or "none"),
    }


def build_raw_asset(spec: TableSpec) -> dg.AssetsDefinition:
    """The asset that lands app.<table> in raw.<table>."""

    @dg.asset(
        key=asset_key(spec.name),
        group_name=GROUP,
        kinds={"postgres"},
        retry_policy=RETRY_ON_CONNECTION_ERRORS,
        pool=POOL,
        description=f"app.{spec.name} landed in raw.{spec.name}: incremental on {spec.watermark_column}, "
        f"key ({', '.join(spec.primary_key)}), hard deletes flagged in _deleted_in_source_at.",
    )
    def _raw_table(
        context: dg.AssetExecutionContext,
        config: ExtractConfig,
        ops_db: PostgresResource,
        warehouse_db: PostgresResource,
    ) -> dg.MaterializeResult:
        lookback = timedelta(minutes=get_settings().extract_lookback_minutes)
        try:
            result = load_table(
                ops_db.url(), warehouse_db.url(), spec.name,
                full_refresh=config.full_refresh, reconcile_keys=config.reconcile_keys, lookback=lookback,
            )  # fmt: skip
        except Exception as error:
            if is_transient(error):
                raise  # the RetryPolicy tries again
            raise dg.Failure(description=str(error), allow_retries=False) from error
        context.log.info(result.summary())
        return dg.MaterializeResult(metadata=materialization_metadata(result))

    return _raw_table


RAW_ASSETS = [build_raw_asset(spec) for spec in REGISTRY.values()]
