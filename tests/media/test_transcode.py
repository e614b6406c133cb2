"""The HLS ladder, checked on real transcodes of small generated clips."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
from pathlib import Path

import msgspec
import psutil
import pytest

from media.ffmpeg import FfmpegFailed
from media.probe import MediaInfo, MediaRejected, probe
from media.testclips import make_test_clip
from media.transcode import HlsOutput, ladder_for, transcode

SEGMENT = 1  # seconds: a 3 s clip then has three segments to compare across renditions


def info(width: int, height: int) -> MediaInfo:
    return MediaInfo(
        duration_seconds=10,
        width=width,
        height=height,
        video_codec="h264",
        frame_rate=25,
        audio_codec="aac",
        container="mov,mp4,m4a,3gp,3g2,mj2",
    )


@pytest.mark.parametrize(
    ("width", "height", "names"),
    [
        (1920, 1080, ["240p", "360p", "480p", "720p", "1080p"]),
        (854, 480, ["240p", "360p", "480p"]),
        (1280, 719, ["240p", "360p", "480p"]),  # never upscaled, not even by one line
        (356, 200, ["200p"]),
        (301, 201, ["200p"]),  # odd: rounded down to even
        (720, 1280, ["240p", "360p", "480p", "720p"]),  # portrait: ranked by the shorter side
    ],
)
def test_ladder_for(width: int, height: int, names: list[str]) -> None:
    ladder = ladder_for(info(width, height))
    assert [r.name for r in ladder] == names
    assert [r.height for r in ladder] == [int(name.removesuffix("p")) for name in names]
    assert all(r.video_kbps > 0 and r.audio_kbps > 0 for r in ladder)


class Transcoded(msgspec.Struct):
    out_dir: Path
    output: HlsOutput
    progress: list[float]


@pytest.fixture(scope="module")
async def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("source") / "480p.mp4"
    await make_test_clip(path, seconds=3, width=854, height=480)
    return path


@pytest.fixture(scope="module")
async def transcoded(source: Path, tmp_path_factory: pytest.TempPathFactory) -> Transcoded:
    out_dir = tmp_path_factory.mktemp("hls")
    progress: list[float] = []

    async def on_progress(fraction: float) -> None:
        progress.append(fraction)

    output = await transcode(
        source, out_dir, await probe(source), segment_seconds=SEGMENT, on_progress=on_progress
    )
    return Transcoded(out_dir, output, progress)


def variants(master: str) -> list[tuple[dict[str, str], str]]:
    """(attributes, uri) for each #EXT-X-STREAM-INF of a master playlist."""
    lines = [line for line in master.splitlines() if line]
    found = []
    for line, uri in itertools.pairwise(lines):
        if line.startswith("#EXT-X-STREAM-INF:"):
            attributes = dict(re.findall(r'([A-Z-]+)=("[^"]*"|[^,]*)', line.partition(":")[2]))
            found.append(({key: value.strip('"') for key, value in attributes.items()}, uri))
    return found


def durations(playlist: str) -> list[str]:
    return re.findall(r"^#EXTINF:([\d.]+),", playlist, re.MULTILINE)


async def test_the_master_playlist_lists_every_rendition(transcoded: Transcoded) -> None:
    assert transcoded.output.renditions == ["240p", "360p", "480p"]
    found = variants((transcoded.out_dir / transcoded.output.master).read_text())
    assert [uri for _, uri in found] == ["240p/index.m3u8", "360p/index.m3u8", "480p/index.m3u8"]
    assert [attributes["RESOLUTION"] for attributes, _ in found] == ["428x240", "640x360", "854x480"]
    bandwidths = [int(attributes["BANDWIDTH"]) for attributes, _ in found]
    assert bandwidths == sorted(bandwidths)
    for attributes, _ in found:
        codecs = attributes["CODECS"].split(",")
        assert [codec.split(".")[0] for codec in codecs] == ["avc1", "mp4a"]


async def test_variant_playlists_are_vod_with_aligned_segments(transcoded: Transcoded) -> None:
    segment_lists = []
    for name in transcoded.output.renditions:
        playlist = (transcoded.out_dir / name / "index.m3u8").read_text()
        assert "#EXT-X-PLAYLIST-TYPE:VOD" in playlist
        assert playlist.rstrip().endswith("#EXT-X-ENDLIST")
        target = re.search(r"^#EXT-X-TARGETDURATION:(\d+)$", playlist, re.MULTILINE)
        assert target and int(target[1]) <= SEGMENT + 1
        segments = [line for line in playlist.splitlines() if line and not line.startswith("#")]
        assert all((transcoded.out_dir / name / segment).stat().st_size > 0 for segment in segments)
        segment_lists.append(durations(playlist))
    assert len(segment_lists[0]) == 3
    # Keyframes at the same instants in every rendition give identical segment durations.
    assert all(durations == segment_lists[0] for durations in segment_lists)


async def test_the_poster_is_a_jpeg_no_taller_than_the_source(transcoded: Transcoded) -> None:
    poster = (transcoded.out_dir / transcoded.output.poster).read_bytes()
    assert poster[:3] == b"\xff\xd8\xff"
    assert 0 < jpeg_size(poster)[1] <= 480


async def test_files_lists_what_is_on_disk(transcoded: Transcoded) -> None:
    on_disk = sorted(
        p.relative_to(transcoded.out_dir).as_posix() for p in transcoded.out_dir.rglob("*") if p.is_file()
    )
    assert transcoded.output.files == on_disk
    assert {"master.m3u8", "poster.jpg", "240p/index.m3u8"} <= set(on_disk)


async def test_progress_rises_to_one(transcoded: Transcoded) -> None:
    assert transcoded.progress[-1] == 1.0
    assert transcoded.progress == sorted(set(transcoded.progress))
    assert all(0 < fraction <= 1 for fraction in transcoded.progress)


async def test_a_portrait_clip_without_audio(tmp_path: Path) -> None:
    # Smaller than 240p too: one rendition as large as the source.
    await make_test_clip(tmp_path / "upright.mp4", seconds=1, width=180, height=320, audio=False)
    output = await transcode(
        tmp_path / "upright.mp4", tmp_path / "hls", await probe(tmp_path / "upright.mp4")
    )
    assert output.renditions == ["180p"]
    [(attributes, _)] = variants((tmp_path / "hls" / output.master).read_text())
    assert attributes["RESOLUTION"] == "180x320"
    assert "mp4a" not in attributes["CODECS"]
    assert jpeg_size((tmp_path / "hls" / output.poster).read_bytes()) == (180, 320)


async def test_a_truncated_source_fails(source: Path, tmp_path: Path) -> None:
    header_only = head_of(source, tmp_path / "header_only.mp4", size=2048)
    with pytest.raises(MediaRejected):
        await probe(header_only)
    # Even with the probe skipped, the transcode itself fails.
    with pytest.raises(FfmpegFailed):
        await transcode(header_only, tmp_path / "hls", await probe(source))


async def test_a_source_cut_off_halfway_fails(source: Path, tmp_path: Path) -> None:
    # The header promises 3 s, the data ends after about one: ffmpeg itself exits 0 on this.
    half = head_of(source, tmp_path / "half.mp4", fraction=0.5)
    with pytest.raises(FfmpegFailed, match="truncated"):
        await transcode(half, tmp_path / "hls", await probe(half), segment_seconds=SEGMENT)


async def test_cancelling_the_transcode_kills_ffmpeg(tmp_path: Path) -> None:
    out_dir = tmp_path / "hls"
    started = asyncio.Event()
    ours: list[psutil.Process] = []

    async def on_progress(fraction: float) -> None:
        # Stopped at its first report, ffmpeg cannot finish before the cancel, however slow the
        # machine; a stopped process is still killed by SIGKILL.
        ours.extend(ffmpeg_children(out_dir))  # by working directory: other tests run ffmpeg too
        for process in ours:
            process.suspend()
        started.set()
        await asyncio.Event().wait()  # hold the transcode here until it is cancelled

    long_source = tmp_path / "long.mp4"
    await make_test_clip(long_source, seconds=20, width=854, height=480)
    # A long source and a slow preset keep ffmpeg busy well past its first progress report.
    work = transcode(long_source, out_dir, await probe(long_source), preset="slow", on_progress=on_progress)
    task = asyncio.create_task(work)
    await started.wait()
    assert ours
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # is_running() is true for a zombie too, so this also says the child was reaped.
    assert not any(process.is_running() for process in ours)
    # Killed, not waited for: ffmpeg never got to finish the playlists.
    playlists = [path.read_text() for path in out_dir.glob("*/index.m3u8")]
    assert not any("#EXT-X-ENDLIST" in playlist for playlist in playlists)


def head_of(source: Path, target: Path, *, size: int | None = None, fraction: float = 1.0) -> Path:
    """A copy of the first ``size`` bytes (or ``fraction``) of ``source``: an upload cut short."""
    data = source.read_bytes()
    target.write_bytes(data[: size if size is not None else int(len(data) * fraction)])
    return target


def ffmpeg_children(cwd: Path) -> list[psutil.Process]:
    found = []
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            if "ffmpeg" in child.name() and Path(child.cwd()) == cwd:
                found.append(child)
    return found


def jpeg_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a JPEG's start-of-frame segment."""
    at = 2
    while at < len(data):
        marker, length = data[at + 1], int.from_bytes(data[at + 2 : at + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return int.from_bytes(data[at + 7 : at + 9], "big"), int.from_bytes(data[at + 5 : at + 7], "big")
        at += 2 + length
    raise AssertionError("no start-of-frame segment")
