"""Channel names and who may read them.

``video:{id}`` is public unless the video is private (the catalog answers through
``VideoReaders``); ``user:{id}`` is that user's own; ``party:{id}`` is for the party's members,
which the watch-party feature answers through ``Memberships``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, Protocol

from app.auth.tokens import Principal

Kind = Literal["video", "party", "user"]
NAME = re.compile(r"^(video|party|user):[A-Za-z0-9_-]{1,64}$")


def channel_name(kind: Kind, ident: object) -> str:
    """The channel of one video, party or user: every name the server publishes on is built here,
    so the format ``authorize_read`` checks is written once."""
    return f"{kind}:{ident}"


class ChannelDenied(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class VideoReaders(Protocol):
    async def readable(self, video_id: str, viewer: Principal | None) -> bool: ...


class Memberships(Protocol):
    async def is_member(self, party_id: str, user_id: str) -> bool: ...


class AllVideos:
    """Every video channel is readable: for a gateway without a catalog (tests, benchmarks)."""

    async def readable(self, video_id: str, viewer: Principal | None) -> bool:
        return True


class NoMemberships:
    """Until watch parties exist, nobody is a member of any party."""

    async def is_member(self, party_id: str, user_id: str) -> bool:
        return False


@dataclass(frozen=True)
class ChannelRules:
    videos: VideoReaders
    parties: Memberships


async def authorize_read(channel: str, principal: Principal | None, rules: ChannelRules) -> None:
    if not NAME.match(channel):
        raise ChannelDenied(
            "invalid_channel", "channels are video:{id}, party:{id} or user:{id}, ids of [A-Za-z0-9_-]"
        )
    kind, _, ident = channel.partition(":")
    if kind == "video":
        if not await rules.videos.readable(ident, principal):
            raise ChannelDenied("forbidden", "this video is private")
        return
    if principal is None:
        raise ChannelDenied("unauthenticated", f"{kind} channels need a signed-in connection")
    if kind == "user" and ident != str(principal.id):
        raise ChannelDenied("forbidden", "a user channel is readable by its user only")
    if kind == "party" and not await rules.parties.is_member(ident, str(principal.id)):
        raise ChannelDenied("forbidden", "only the party's members may read its channel")
