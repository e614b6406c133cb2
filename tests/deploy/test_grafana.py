"""deploy/grafana/mydrtv.json queries only series the server exports, and shows each of them;
docs/operations.md describes each of them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from app.identity.crypto import new_master_key
from core.settings import Settings
from server.factory import create_app
from server.metrics import Metrics

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = json.loads((ROOT / "deploy" / "grafana" / "mydrtv.json").read_text())
NAME = re.compile(r"\bmydrtv_[a-z_]*[a-z]\b")
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}


def _metrics() -> Metrics:
    """The registry of an app built with metrics on (building it connects to nothing)."""
    offline = Settings(
        database_url="postgresql://offline@127.0.0.1:1/main",
        identity_database_url="postgresql://offline@127.0.0.1:1/identity",
        jwt_secret="offline" * 8,
        privacy_master_key=new_master_key(),
        metrics=True,
    )
    metrics = create_app(offline).state.metrics
    assert isinstance(metrics, Metrics)
    return metrics


def _families() -> dict[str, str]:
    """Every metric family the server exports: name and type."""
    return {family.name: family.type for family in _metrics().registry.collect()}


def _exported() -> set[str]:
    return {name + suffix for name, kind in _families().items() for suffix in SUFFIXES[kind]}


def _queries(node: Any) -> Iterator[str]:
    """Every PromQL text in the dashboard: panel targets and template variables."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("expr", "definition") and isinstance(value, str):
                yield value
            elif key == "query" and isinstance(value, str | dict):
                yield from ([value] if isinstance(value, str) else _queries(value))
            else:
                yield from _queries(value)
    elif isinstance(node, list):
        for item in node:
            yield from _queries(item)


def _queried() -> set[str]:
    return {name for query in _queries(DASHBOARD) for name in NAME.findall(query)}


def test_every_metric_the_dashboard_queries_is_exported() -> None:
    queried = _queried()
    assert len(queried) > 10
    assert queried <= _exported(), f"not exported: {sorted(queried - _exported())}"


def test_the_check_above_can_fail() -> None:
    assert "mydrtv_websocket_connection" not in _exported()  # a misspelt name is caught
    assert "mydrtv_deliveries" not in _exported()  # a counter is queried with its _total


def test_every_exported_metric_is_on_the_dashboard_and_in_the_operations_guide() -> None:
    queried = _queried()
    guide = (ROOT / "docs" / "operations.md").read_text()
    for name, kind in _families().items():
        assert any(name + suffix in queried for suffix in SUFFIXES[kind]), f"{name} has no panel"
        assert f"`{name}" in guide, f"docs/operations.md does not describe {name}"


def test_every_panel_reads_the_prometheus_datasource_variable() -> None:
    panels = DASHBOARD["panels"]
    assert [p["id"] for p in panels] == list(range(1, len(panels) + 1))
    for panel in panels:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        assert panel["targets"], panel["title"]
