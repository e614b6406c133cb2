"""People with an account in the identity database (a profile belongs to one), and pictures
generated with Pillow for the avatar tests."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

import asyncpg
from PIL import Image

from app.identity.crypto import Keyring
from app.identity.store import seal_account
from core.settings import Settings
from tests.users import Person, person


async def member(settings: Settings, handle: str | None = None, display_name: str | None = None) -> Person:
    """A user with an ``accounts`` row (``person`` makes only the public ``users`` row) and,
    given one, a display name written straight to the profile."""
    someone = await person(settings, handle=handle)
    connection = await asyncpg.connect(settings.identity_database_url)
    try:
        keyring = Keyring.from_settings(settings.privacy_master_key)
        sealed = seal_account(keyring, someone.id, f"{someone.handle}@example.com", "x", None)
        await connection.execute(
            "INSERT INTO accounts (id, email_hash, email_sealed, password_hash_sealed)"
            " VALUES ($1, $2, $3, $4)",
            someone.id,
            sealed["email_hash"],
            sealed["email_sealed"],
            sealed["password_hash_sealed"],
        )
        await connection.execute(
            "INSERT INTO account_keys (account, master_key_id, wrapped_key) VALUES ($1, $2, $3)",
            someone.id,
            sealed["master_key_id"],
            sealed["wrapped_key"],
        )
        if display_name is not None:
            await connection.execute(
                "INSERT INTO profiles (account, display_name) VALUES ($1, $2)", someone.id, display_name
            )
    finally:
        await connection.close()
    return someone


def jpeg_with_gps(size: tuple[int, int] = (640, 480)) -> bytes:
    """A JPEG whose EXIF holds a camera, an orientation and a GPS position."""
    picture = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "CameraMakerXYZ"  # Make
    exif[0x0110] = "SecretModel"  # Model
    exif[0x8825] = {1: "N", 2: (55.0, 40.0, 12.0), 3: "E", 4: (12.0, 34.0, 56.0)}  # GPS IFD
    out = io.BytesIO()
    picture.save(out, "JPEG", exif=exif.tobytes(), quality=90)
    return out.getvalue()


def picture(kind: str = "PNG", size: tuple[int, int] = (300, 200), mode: str = "RGB", **save: Any) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, 128 if mode == "L" else (10, 120, 200)).save(out, kind, **save)
    return out.getvalue()


def animated_gif() -> bytes:
    frames = [Image.new("RGB", (40, 40), colour) for colour in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return out.getvalue()


def truncated_jpeg() -> bytes:
    noise = Image.effect_noise((400, 400), 64).convert("RGB")
    out = io.BytesIO()
    noise.save(out, "JPEG", quality=95)
    whole = out.getvalue()
    return whole[: len(whole) // 2]


def png_bomb(width: int = 20_000, height: int = 20_000) -> bytes:
    """A real PNG of ``width`` x ``height`` black pixels (1 bit each): a few tens of kilobytes
    that decode to ``width * height`` pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte, then the row's bits
    packer = zlib.compressobj(9)
    compressed = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", compressed) + chunk(b"IEND", b"")


SVG_WITH_SCRIPT = b"""<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">
  <script>alert(document.cookie)</script>
  <circle cx="50" cy="50" r="40" fill="red"/>
</svg>"""
SVG_PLAIN = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'
)
