"""The Redis deployments a backend suite runs on: one server (``redis``) and a 3-primary Redis
Cluster (``redis-cluster``, started on first use by the ``redis_cluster_url`` fixture)."""

from __future__ import annotations

import pytest

REDIS_KINDS = ["redis", "redis-cluster"]


def redis_url_of(kind: str, request: pytest.FixtureRequest) -> str:
    """The ``MYDRTV_REDIS_URL`` of ``kind``; the cluster starts only when a test asks for it."""
    if kind == "redis-cluster":
        return str(request.getfixturevalue("redis_cluster_url"))
    return str(request.getfixturevalue("servers")["redis"])
