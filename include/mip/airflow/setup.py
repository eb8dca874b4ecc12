"""Deployment setup on Airflow's metadata database: SP-API pools and (for the sandbox) connections.

    python -m mip.airflow.setup [--sandbox http://127.0.0.1:8100] [--pool-slots 4]
        [--supplier http://127.0.0.1:8110/rest --supplier-key-file .local/supplier-api/api_key]
        [--sqs-endpoint http://127.0.0.1:8102]

Run by ``make up`` and by the compose ``airflow-init`` service, after ``airflow db migrate``.
Existing connections are never overwritten: credentials stored by a reset or the Marketplaces page
survive restarts.
"""

from __future__ import annotations

import argparse
import json

from mip.airflow.common import sp_api_pool
from mip.airflow.hooks.sp_api import CONN_TYPE
from mip.config import Topology, load_topology


def ensure_pools(topology: Topology, slots: int) -> list[str]:
    from airflow.models.pool import Pool

    names = []
    for account in topology.accounts:
        name = sp_api_pool(account.id)
        Pool.create_or_update_pool(
            name, slots, f"SP-API calls of seller account {account.id} (shares its usage plans)", include_deferred=False
        )
        names.append(name)
    return names


def sandbox_connection_extra(sandbox_url: str, sandbox_account: dict) -> dict:
    return {
        "seller_id": sandbox_account["seller_id"],
        "region": sandbox_account["region"],
        "lwa_client_id": sandbox_account["lwa_client_id"],
        "lwa_client_secret": sandbox_account["lwa_client_secret"],
        "refresh_token": sandbox_account["refresh_token"],
        "authorization_date": sandbox_account["authorized_at"],
        "endpoint": sandbox_url,
        "application_id": sandbox_account["application_id"],
    }


def ensure_sandbox_connections(topology: Topology, sandbox_url: str) -> list[str]:
    """Create each account's connection from the sandbox's test credentials, unless it exists."""
    import httpx
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session
    from sqlalchemy import select

    sandbox_accounts = {a["seller_id"]: a for a in httpx.get(f"{sandbox_url}/_sandbox/accounts", timeout=10).json()}
    created = []
    with create_session() as session:
        for account in topology.accounts:
            if session.scalar(select(Connection).where(Connection.conn_id == account.connection_id)):
                continue
            if account.seller_id not in sandbox_accounts:
                raise ValueError(f"the sandbox has no seller {account.seller_id} (account {account.id})")
            extra = sandbox_connection_extra(sandbox_url, sandbox_accounts[account.seller_id])
            session.add(
                Connection(
                    conn_id=account.connection_id,
                    conn_type=CONN_TYPE,
                    description=f"Seller account {account.id} (sandbox)",
                    extra=json.dumps(extra),
                )
            )
            created.append(account.connection_id)
    return created


def ensure_supplier_connection(base_url: str, api_key: str) -> bool:
    """The ``bigbuy`` connection of the supplier stand-in (the API key read from its file), unless one exists."""
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session
    from sqlalchemy import select

    from mip.airflow.hooks.supplier import CONN_TYPE as SUPPLIER_TYPE
    from mip.airflow.hooks.supplier import supplier_conn_id

    with create_session() as session:
        if session.scalar(select(Connection).where(Connection.conn_id == supplier_conn_id())):
            return False
        session.add(
            Connection(
                conn_id=supplier_conn_id(),
                conn_type=SUPPLIER_TYPE,
                description="Supplier order API (the local BigBuy stand-in)",
                password=api_key,
                extra=json.dumps({"base_url": base_url}),
            )
        )
    return True


def ensure_sandbox_aws_connections(topology: Topology, sqs_endpoint: str) -> list[str]:
    """The ``aws`` connection of each account whose order events come from a sandbox queue, unless it exists.

    The sandbox's SQS server (moto) takes any key: the connection carries its endpoint (docs/order-events.md).
    """
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session
    from sqlalchemy import select

    from mip.airflow.sandbox_rule import configured_queue

    created: list[str] = []
    with create_session() as session:
        for account in topology.accounts:
            if account.order_events is None or account.order_events.aws_conn_id in created:
                continue
            queue = configured_queue(account.order_events.queue_url)
            conn_id = account.order_events.aws_conn_id
            if not queue.sandbox or session.scalar(select(Connection).where(Connection.conn_id == conn_id)):
                continue
            session.add(
                Connection(
                    conn_id=conn_id,
                    conn_type="aws",
                    description="The order events queue (the sandbox's SQS server)",
                    login="sandbox",
                    password="sandbox",
                    extra=json.dumps({"endpoint_url": sqs_endpoint, "region_name": queue.region}),
                )
            )
            created.append(conn_id)
    return created


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sandbox", help="sandbox base URL: create missing account connections from it")
    parser.add_argument("--pool-slots", type=int, default=4)
    parser.add_argument("--supplier", help="supplier stand-in base URL: create the bigbuy connection for it")
    parser.add_argument("--supplier-key-file", help="the file holding the stand-in's API key (not on argv)")
    parser.add_argument("--sqs-endpoint", help="sandbox SQS server: create the aws connections of its queues")
    args = parser.parse_args()
    topology = load_topology()
    print(f"pools: {', '.join(ensure_pools(topology, args.pool_slots))} ({args.pool_slots} slots)")
    if args.sandbox:
        created = ensure_sandbox_connections(topology, args.sandbox)
        print(f"connections created: {', '.join(created) or 'none (all exist)'}")
    if args.supplier and args.supplier_key_file:
        from pathlib import Path

        key = Path(args.supplier_key_file).read_text().strip()
        print("supplier connection " + ("created" if ensure_supplier_connection(args.supplier, key) else "exists"))
    if args.sqs_endpoint:
        created = ensure_sandbox_aws_connections(topology, args.sqs_endpoint)
        print(f"aws connections created: {', '.join(created) or 'none'}")


if __name__ == "__main__":
    main()
