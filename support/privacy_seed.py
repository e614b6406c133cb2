"""A heavy user for erasure tests and the privacy benchmark, written in bulk with SQL: an account
in the identity database (sealed, with a profile), many comments (others reply to some),
follows, ratings, uploads with renditions in storage, and the published outbox rows their
comments would have left. Then the graph is rebuilt from PostgreSQL, as ``mydrtv graph rebuild`` does."""

from __future__ import annotations

import os
import uuid

import asyncpg
import msgspec

from app.identity.crypto import Keyring
from app.identity.store import seal_account, seal_field
from core.db import Database
from core.settings import Settings
from graph.rebuild import rebuild
from media.storage.base import Storage
from server import backends


class Heavy(msgspec.Struct, frozen=True):
    user_id: uuid.UUID
    email: str
    comments: int
    follows: int
    uploads: int
    stored_bytes: int


async def seed_heavy(
    settings: Settings,
    storage: Storage,
    *,
    comments: int = 10_000,
    follows: int = 1_000,
    uploads: int = 5,
    upload_bytes: int = 1024 * 1024,
) -> Heavy:
    user = uuid.uuid4()
    tag = user.hex[:8]
    email = f"heavy_{tag}@example.com"
    identity = await asyncpg.connect(settings.identity_database_url)
    try:
        # Sealed as registration seals it (app/identity/store.py), with a profile beside it.
        keyring = Keyring.from_settings(settings.privacy_master_key)
        sealed = seal_account(keyring, user, email, "not-a-hash", None)
        await identity.execute(
            "INSERT INTO accounts (id, email_hash, email_sealed, password_hash_sealed)"
            " VALUES ($1, $2, $3, $4)",
            user,
            sealed["email_hash"],
            sealed["email_sealed"],
            sealed["password_hash_sealed"],
        )
        await identity.execute(
            "INSERT INTO account_keys (account, master_key_id, wrapped_key) VALUES ($1, $2, $3)",
            user,
            sealed["master_key_id"],
            sealed["wrapped_key"],
        )
        bio = seal_field(keyring, user, sealed["master_key_id"], sealed["wrapped_key"], "bio", "a heavy user")
        await identity.execute(
            "INSERT INTO profiles (account, display_name, bio_sealed) VALUES ($1, $2, $3)",
            user,
            f"Heavy {tag}",
            bio,
        )
        await identity.execute(
            "INSERT INTO consents (account, purpose, granted) VALUES ($1, 'personalization', true)", user
        )
        await identity.execute(
            "INSERT INTO refresh_tokens (id, family, account, token_hash, expires_at)"
            " VALUES ($1, $1, $2, repeat('0', 64), now() + interval '1 day')",
            uuid.uuid4(),
            user,
        )
    finally:
        await identity.close()
    main = await asyncpg.connect(settings.database_url)
    try:
        others = [uuid.uuid4() for _ in range(follows)]
        await main.execute("INSERT INTO users (id, handle) VALUES ($1, $2)", user, f"heavy_{tag}")
        await main.execute(
            "INSERT INTO users (id, handle) SELECT id, 'f_' || substr(md5(id::text), 1, 20)"
            " FROM unnest($1::uuid[]) AS id",
            others,
        )
        await main.execute(
            "INSERT INTO follows (follower_id, followee_id) SELECT $1, id FROM unnest($2::uuid[]) AS id",
            user,
            others,
        )
        await main.execute(
            "INSERT INTO follows (follower_id, followee_id) SELECT id, $1 FROM unnest($2::uuid[]) AS id",
            user,
            others[: follows // 10],
        )
        video = uuid.uuid4()
        await main.execute(
            "INSERT INTO videos (id, owner_id, title, status) VALUES ($1, $2, 'Watched by all', 'ready')",
            video,
            others[0],
        )
        ids = await main.fetch(
            "INSERT INTO comments (video_id, author_id, body)"
            " SELECT $1, $2, 'heavy comment number ' || n FROM generate_series(1, $3) AS n RETURNING id",
            video,
            user,
            comments,
        )
        answered = [row["id"] for row in ids[:: max(1, comments // 100)]]
        await main.execute(
            "INSERT INTO comments (video_id, author_id, body, parent_id, root_id)"
            " SELECT $1, $2, 'a reply to ' || c, c, c FROM unnest($3::bigint[]) AS c",
            video,
            others[0],
            answered,
        )
        await main.execute(  # what publishing those comments left: published rows naming the author
            "INSERT INTO outbox (channel, payload, published_at)"
            " SELECT 'video:' || $1::text, convert_to(json_build_object('type', 'comment.created',"
            "   'comment', json_build_object('id', c.id, 'author', json_build_object('id', $2::text),"
            "   'body', c.body))::text, 'UTF8'), now()"
            " FROM comments c WHERE c.author_id = $3",
            str(video),
            str(user),
            user,
        )
        await main.execute("INSERT INTO ratings (video_id, user_id, stars) VALUES ($1, $2, 4)", video, user)
        owned = [uuid.uuid4() for _ in range(uploads)]
        await main.execute(
            "INSERT INTO videos (id, owner_id, title, status)"
            " SELECT id, $1, 'Upload', 'ready' FROM unnest($2::uuid[]) AS id",
            user,
            owned,
        )
        await main.execute(
            "INSERT INTO watches (user_id, video_id) SELECT $1, id FROM unnest($2::uuid[]) AS id", user, owned
        )
    finally:
        await main.close()
    stored = 0
    for video_id in owned:
        # Random bytes: compressed video does not shrink in a zip either.
        await storage.put_bytes(f"videos/{video_id}/sources/original", os.urandom(upload_bytes), "video/mp4")
        stored += upload_bytes
        for name in ("master.m3u8", "720p/index.m3u8", "720p/seg0.ts", "360p/seg0.ts", "poster.jpg"):
            await storage.put_bytes(f"videos/{video_id}/hls/j1a1/{name}", b"\0" * 4096, "video/mp2t")
            stored += 4096
    graph = backends.graph(settings)
    if graph is not None:
        db = Database("main", settings.database_url)
        await db.start(max_size=2)
        try:
            await rebuild(db, graph)
        finally:
            await db.stop()
            await graph.close()
    return Heavy(
        user_id=user, email=email, comments=comments, follows=follows, uploads=uploads, stored_bytes=stored
    )
