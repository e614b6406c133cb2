"""Schemathesis over the served OpenAPI document, against a real server process.

Every operation is tried with generated valid and invalid input (the coverage, fuzzing and
stateful phases of schemathesis's engine, seeded, 50 examples per operation), once as an ordinary
signed-in user and once as an admin; the run must find no server error, no answer the document
does not describe, and no error in the server's log. About 5 500 requests a role, 2 to 3 minutes
for both on two cores.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import asyncpg
import httpx
import msgspec
import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema

from core.settings import Settings
from tests.processes import ServerProcess
from tests.users import PASSWORD, unique_handle

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)
MAX_EXAMPLES = 50
STATEFUL = True
SEED = 11


@pytest.fixture(scope="module")
async def server(
    settings: Settings, falkordb_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ServerProcess]:
    """One server with media and a graph, and rate limits generous enough that 429s do not
    hide the rest."""
    media = tmp_path_factory.mktemp("fuzz-media")
    server = ServerProcess(
        msgspec.structs.replace(
            settings,
            storage_url=media.as_uri(),
            graph_url=falkordb_url,
            media_worker=False,
            media_max_upload_bytes=1_000_000,
            **generous_limits(settings),
        )
    )
    await server.start()
    yield server
    await server.stop()


def generous_limits(settings: Settings) -> dict[str, str]:
    """Every rate-limit setting ("N/period": comments, ratings, reports, logins, registrations)
    raised far above what the run sends."""
    return {
        name: "100000/minute"
        for name, value in msgspec.structs.asdict(settings).items()
        if isinstance(value, str) and re.fullmatch(r"\d+/\w+", value)
    }


@pytest.fixture(scope="module")
async def tokens(server: ServerProcess) -> dict[str, str]:
    """An ordinary user and an admin, signed up before any run (whose own sign-ups count
    against the registration limit)."""
    return {role: await signed_in(server, role) for role in ("viewer", "admin")}


async def signed_in(server: ServerProcess, role: str) -> str:
    """A registered user with ``role``, logged in through the API: their access token."""
    handle = unique_handle(role)
    email = f"{handle}@example.com"
    async with httpx.AsyncClient(base_url=server.http_url) as client:
        registered = await client.post(
            "/accounts", json={"email": email, "password": PASSWORD, "handle": handle}
        )
        assert registered.status_code == 201, registered.text
        if role != "viewer":
            connection = await asyncpg.connect(server.settings.database_url)
            try:
                await connection.execute("UPDATE users SET role = $1 WHERE handle = $2", role, handle)
            finally:
                await connection.close()
        grant = {"grant_type": "password", "username": email, "password": PASSWORD}
        response = await client.post("/auth/token", data=grant)
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])


@dataclass
class Outcome:
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    phases: Counter[str] = field(default_factory=Counter)  # requests per phase
    failures: dict[str, str] = field(default_factory=dict)  # what failed -> how to reproduce it
    errors: list[str] = field(default_factory=list)

    def report(self, role: str, server_errors: list[str]) -> str:
        lines = [
            f"{role}: {self.requests} requests, by phase {dict(self.phases)},"
            f" statuses {sorted(self.statuses.items())}"
        ]
        lines += [f"FAILURE {what}\n{how}" for what, how in sorted(self.failures.items())]
        lines += [f"ERROR {error}" for error in self.errors]
        lines += [f"SERVER {error}" for error in server_errors]
        return "\n".join(lines)


def run(url: str, token: str) -> Outcome:
    """The schemathesis engine over the whole document, bounded and seeded."""
    config = SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "workers": 1,
            "headers": {"Authorization": f"Bearer {token}"},
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
            "phases": {"stateful": {"enabled": STATEFUL}},
            "request-timeout": 30,
            "continue-on-failure": True,
        }
    )
    schema = schemathesis.openapi.from_url(f"{url}/schema/openapi.json", config=config)
    outcome = Outcome()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            for interaction in event.recorder.interactions.values():
                if interaction.response is not None:
                    outcome.requests += 1
                    outcome.phases[event.phase.value] += 1
                    outcome.statuses[interaction.response.status_code] += 1
            for checks in event.recorder.checks.values():
                for check in checks:
                    if check.status == Status.FAILURE and check.failure_info is not None:
                        failure = check.failure_info.failure
                        what = f"{event.label}: {check.name}: {failure.title}: {failure.message}"
                        outcome.failures.setdefault(what, check.failure_info.code_sample)
        elif isinstance(event, (events.NonFatalError, events.FatalError)):
            outcome.errors.append(repr(event))
    return outcome


def server_errors(lines: list[str]) -> list[str]:
    """The errors the server logged: the request path and the exception's last line."""
    found = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("level") in ("error", "critical"):
            last = str(entry.get("exception", "")).strip().splitlines()[-1:] or [""]
            found.append(f"{entry.get('path', '?')}: {entry.get('message')}: {last[0]}")
    return found


@pytest.mark.parametrize("role", ["viewer", "admin"])
async def test_the_api_answers_every_generated_request_as_documented(
    server: ServerProcess, tokens: dict[str, str], role: str
) -> None:
    token = tokens[role]
    logged = len(server.lines)
    outcome = await asyncio.to_thread(run, server.http_url, token)
    logged_errors = server_errors(server.lines[logged:])
    report = outcome.report(role, logged_errors)
    print(report)
    assert outcome.requests > 1000, report
    assert not outcome.errors, report
    assert not outcome.failures, report
    assert not logged_errors, report
