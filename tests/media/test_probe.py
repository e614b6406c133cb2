"""Probing real files made by the bundled ffmpeg: what it accepts, what it rejects and why."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from media.ffmpeg import encoders, run
from media.probe import MediaRejected, probe
from media.testclips import make_test_clip


@pytest.fixture(scope="module")
async def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("probe")
    await make_test_clip(folder / "with_audio.mp4", seconds=2, width=320, height=240)
    await make_test_clip(folder / "silent.mp4", seconds=1, width=160, height=120, audio=False)
    quiet = ["-loglevel", "error", "-y"]
    # A phone clip shot upright: stored 320x240, displayed rotated by 90 degrees.
    await run(
        [
            *quiet,
            "-display_rotation",
            "90",
            "-i",
            str(folder / "with_audio.mp4"),
            "-c",
            "copy",
            str(folder / "rotated.mp4"),
        ]
    )
    # Written as a live stream: no duration in the file.
    await run(
        [*quiet, "-i", str(folder / "silent.mp4"), "-c", "copy", "-live", "1", str(folder / "live.mkv")]
    )
    await run(
        [*quiet, "-f", "lavfi", "-i", "testsrc2=size=64x48", "-frames:v", "1", str(folder / "image.png")]
    )
    await run(
        [
            *quiet,
            *("-f", "lavfi", "-i", "sine=duration=1", "-f", "lavfi", "-i", "color=size=64x64:duration=0.04"),
            *("-map", "0", "-map", "1", "-c:a", "aac", "-c:v", "png", "-disposition:v:0", "attached_pic"),
            str(folder / "song_with_cover.m4a"),
        ]
    )
    (folder / "truncated.mp4").write_bytes((folder / "with_audio.mp4").read_bytes()[:2048])
    (folder / "random.mp4").write_bytes(random.Random(7).randbytes(4096))
    (folder / "notes.txt").write_text("not a video\n")
    # Long enough for ffmpeg's "tty" demuxer to claim it (as an ANSI art animation).
    (folder / "long.txt").write_text("lorem ipsum dolor sit amet\n" * 300)
    return folder


async def test_an_mp4_with_audio(clips: Path) -> None:
    info = await probe(clips / "with_audio.mp4")
    assert info.duration_seconds == pytest.approx(2, abs=1 / 25)
    assert (info.width, info.height) == (320, 240)
    assert info.video_codec == "h264"
    assert info.frame_rate == 25
    assert info.audio_codec == "aac"
    assert "mp4" in info.container.split(",")


async def test_a_clip_without_audio(clips: Path) -> None:
    info = await probe(clips / "silent.mp4")
    assert info.audio_codec is None
    assert (info.width, info.height) == (160, 120)


async def test_a_rotated_clip_reports_the_displayed_size(clips: Path) -> None:
    info = await probe(clips / "rotated.mp4")
    assert (info.width, info.height) == (240, 320)


@pytest.mark.parametrize(
    ("name", "codec", "video_codec", "audio_codec", "container"),
    [("clip.webm", "libvpx-vp9", "vp9", "opus", "webm"), ("clip.avi", "mpeg4", "mpeg4", "mp3", "avi")],
)
async def test_other_codecs_and_containers(
    tmp_path: Path, name: str, codec: str, video_codec: str, audio_codec: str, container: str
) -> None:
    if codec not in await encoders():
        pytest.skip(f"this ffmpeg cannot encode {codec}")
    await make_test_clip(tmp_path / name, seconds=1, width=160, height=120, codec=codec)
    info = await probe(tmp_path / name)
    assert (info.video_codec, info.audio_codec) == (video_codec, audio_codec)
    assert container in info.container.split(",")
    assert info.duration_seconds == pytest.approx(1, abs=0.05)


async def test_an_unsupported_codec_is_named(tmp_path: Path) -> None:
    await make_test_clip(tmp_path / "lossless.mkv", seconds=1, width=64, height=48, audio=False, codec="ffv1")
    with pytest.raises(MediaRejected, match="ffv1") as rejected:
        await probe(tmp_path / "lossless.mkv")
    assert rejected.value.code == "unsupported_codec"


async def test_a_stream_without_duration(clips: Path) -> None:
    with pytest.raises(MediaRejected) as rejected:
        await probe(clips / "live.mkv")
    assert rejected.value.code == "no_duration"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("image.png", "container"),
        ("song_with_cover.m4a", "no video stream"),
        ("notes.txt", "cannot read"),
        ("long.txt", "container"),
        ("truncated.mp4", "cannot read|truncated"),
        ("random.mp4", "cannot read"),
    ],
)
async def test_what_is_not_a_video(clips: Path, name: str, reason: str) -> None:
    with pytest.raises(MediaRejected, match=reason) as rejected:
        await probe(clips / name)
    assert rejected.value.code == "not_a_video"


async def test_a_missing_file_is_our_error_not_the_uploaders(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        await probe(tmp_path / "gone.mp4")
