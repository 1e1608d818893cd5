"""`warehouse access init | grant-tenant`: roles and tenant analysts."""

from __future__ import annotations

import argparse


def register(commands: argparse._SubParsersAction) -> None:
    access = commands.add_parser("access", help="roles, row-level security and tenant analysts")
    actions = access.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("init", help="create group roles, schemas and privileges (idempotent)").set_defaults(
        handler=_init
    )
    grant = actions.add_parser("grant-tenant", help="create a login role that sees one tenant's rows")
    grant.add_argument("slug", help="the tenant's slug, as in tenants.slug")
    grant.add_argument("--role", help="login role name (default tenant_<slug>_analyst)")
    grant.set_defaults(handler=_grant_tenant)


def _init(args) -> int:
    from pipelines.lib.access import init_access
    from pipelines.lib.databases import database_urls

    init_access(database_urls().warehouse)
    print("roles warehouse_loader, warehouse_transformer, finance_reader, analyst, tenant_analyst are in place")
    return 0


def _grant_tenant(args) -> int:
    from pipelines.cli import UserError
    from pipelines.lib import validation
    from pipelines.lib.access import grant_tenant, psql_hint
    from pipelines.lib.databases import database_urls
    from pipelines.settings import get_settings

    try:
        validation.tenant_slug(args.slug)  # before any connection is made
        if args.role:
            validation.role_name(args.role)
        url = database_urls().warehouse
        analyst = grant_tenant(url, args.slug, get_settings().home / "credentials", role=args.role)
    except validation.InvalidInput as error:
        raise UserError(str(error)) from None
    print(f"{'created' if analyst.created else 'refreshed'} role {analyst.role} for tenant {args.slug}")
    print(f"  connect: {psql_hint(analyst.role, analyst.password_file, url)}")
    return 0
