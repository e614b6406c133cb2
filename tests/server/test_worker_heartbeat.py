"""``mydrtv worker`` keeps its heartbeat file fresh, and the Kubernetes probe reads it right."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import msgspec
import yaml

from core.settings import Settings
from support.faults.servers import until
from support.processes import settings_env

PROBE_FILE = Path(__file__).resolve().parents[2] / "deploy" / "k8s" / "worker.yaml"


def _probe(heartbeat: Path) -> int:
    """Run the worker's liveness probe command from the manifest against ``heartbeat``."""
    deployment = next(d for d in yaml.safe_load_all(PROBE_FILE.read_text()) if d["kind"] == "Deployment")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    manifest_path = next(e["value"] for e in container["env"] if e["name"] == "MYDRTV_WORKER_HEARTBEAT_FILE")
    probe = container["livenessProbe"]["exec"]["command"]
    command = [part.replace(manifest_path, str(heartbeat)) for part in probe]
    assert command[0] == "python"
    return subprocess.run([sys.executable, *command[1:]], timeout=30).returncode


def _fresh(heartbeat: Path) -> Callable[[], Awaitable[bool]]:
    def beaten() -> bool:
        return heartbeat.exists() and heartbeat.stat().st_mtime > 0

    async def check() -> bool:
        return await asyncio.to_thread(beaten)

    return check


async def test_the_worker_beats_while_it_runs_and_the_probe_tells_fresh_from_stale(
    settings: Settings, tmp_path: Path
) -> None:
    heartbeat = tmp_path / "heartbeat"
    worker_settings = msgspec.structs.replace(
        settings,
        storage_url=(tmp_path / "media").as_uri(),
        worker_heartbeat_file=str(heartbeat),
        media_work_dir=str(tmp_path / "work"),
    )
    with (tmp_path / "worker.log").open("ab") as log:
        worker = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "server.cli", "worker", env=settings_env(worker_settings), stderr=log
        )
    try:
        await until(_fresh(heartbeat), within=30)
        assert _probe(heartbeat) == 0

        os.utime(heartbeat, (0, 0))  # as if the worker had been stuck since 1970
        assert _probe(heartbeat) == 1
        await until(_fresh(heartbeat), within=30)  # the next beat freshens it
        assert _probe(heartbeat) == 0
    finally:
        worker.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(worker.wait(), 30) == 0, (tmp_path / "worker.log").read_text()


async def test_the_worker_serves_its_metrics_on_the_port_a_setting_names(
    settings: Settings, tmp_path: Path
) -> None:
    import httpx
    from prometheus_client.parser import text_string_to_metric_families

    from support.services import free_port

    port = free_port()
    heartbeat = tmp_path / "heartbeat"
    worker_settings = msgspec.structs.replace(
        settings,
        storage_url=(tmp_path / "media").as_uri(),
        worker_heartbeat_file=str(heartbeat),
        media_work_dir=str(tmp_path / "work"),
        metrics=True,
        metrics_port=port,
    )
    with (tmp_path / "worker.log").open("ab") as log:
        worker = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "server.cli", "worker", env=settings_env(worker_settings), stderr=log
        )
    try:
        await until(_fresh(heartbeat), within=30)  # started: the listener came before the first beat
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.get(f"http://127.0.0.1:{port}/metrics")
        assert response.status_code == 200
        families = {family.name: family.type for family in text_string_to_metric_families(response.text)}
        assert families["mydrtv_transcode_duration_seconds"] == "histogram"
    finally:
        worker.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(worker.wait(), 30) == 0, (tmp_path / "worker.log").read_text()
