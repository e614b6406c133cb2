"""Apply and check the migrations of one database.

Piccolo's own migration command binds to one global engine; this project has two databases
chosen at run time, so a small runner drives a Piccolo engine per database instead.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from piccolo.engine.postgres import PostgresEngine
from piccolo.querystring import QueryString

DATABASES = ("main", "identity")
_LOCK_KEY = 7_310_452  # pg_advisory_xact_lock key: two migrators never interleave

_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    name text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


class NotMigrated(Exception):
    """The database lacks migrations this code needs; ``mydrtv migrate`` applies them."""


def known(database: str) -> list[ModuleType]:
    """The migration modules of one database, in the order they apply."""
    package = importlib.import_module(f"migrations.{database}")
    names = sorted(m.name for m in pkgutil.iter_modules(package.__path__) if m.name[0] == "m")
    return [importlib.import_module(f"{package.__name__}.{name}") for name in names]


def _short(module: ModuleType) -> str:
    return module.__name__.rsplit(".", 1)[-1]


async def applied(engine: PostgresEngine) -> set[str]:
    exists = await engine.run_querystring(
        QueryString("SELECT to_regclass('schema_migrations') IS NOT NULL AS present")
    )
    if not exists[0]["present"]:
        return set()
    rows = await engine.run_querystring(QueryString("SELECT name FROM schema_migrations"))
    return {row["name"] for row in rows}


async def pending(engine: PostgresEngine, database: str) -> list[str]:
    done = await applied(engine)
    return [_short(m) for m in known(database) if _short(m) not in done]


async def migrate(
    engine: PostgresEngine, database: str, context: Mapping[str, Any] | None = None
) -> list[str]:
    """Apply what is pending; returns the names applied now.

    A migration that must rewrite rows in Python (encrypting them, say) defines
    ``async def run(engine, context)``, called after its ``STATEMENTS`` in the same transaction;
    ``context`` carries what the composition root hands such a step (a key, a cipher), since
    migrations import nothing above the kernel."""
    applied_now: list[str] = []
    for module in known(database):
        async with engine.transaction():
            await engine.run_querystring(QueryString("SELECT pg_advisory_xact_lock({})", _LOCK_KEY))
            await engine.run_ddl(_LEDGER)
            if _short(module) in await applied(engine):
                continue
            for statement in module.STATEMENTS:
                await engine.run_ddl(statement)
            if hasattr(module, "run"):
                await module.run(engine, context or {})
            await engine.run_querystring(
                QueryString("INSERT INTO schema_migrations (name) VALUES ({})", _short(module))
            )
            applied_now.append(_short(module))
    return applied_now


async def check(engine: PostgresEngine, database: str, url: str) -> None:
    missing = await pending(engine, database)
    if missing:
        raise NotMigrated(
            f"the {database} database ({_redact(url)}) is not migrated: "
            f"missing {', '.join(missing)}; run `mydrtv migrate`"
        )


def _redact(url: str) -> str:
    """Hide a password in a database URL before it reaches a log or an error."""
    scheme, sep, rest = url.partition("://")
    if "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}@{host}"
