"""REST endpoints of notifications: the list, the unread count, marking read, the settings."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post, put
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter

from app.notifications.schemas import NotificationPage, NotificationSettings, UnreadCount
from app.notifications.service import NotificationService
from core.pagination import Cursor, Limit
from core.params import IdPath
from core.tokens import Principal

UnreadOnly = Annotated[bool, QueryParameter(description="only the unread ones")]


class NotificationController(Controller):
    tags = ("notifications",)

    @get("/me/notifications")
    async def notifications(
        self,
        principal: NamedDependency[Principal],
        notifications: NamedDependency[NotificationService],
        cursor: Cursor = None,
        limit: Limit = 20,
        unread: UnreadOnly = False,
    ) -> NotificationPage:
        """Your notifications, latest activity first; live as ``notification.*`` on ``user:{id}``."""
        return await notifications.page(principal, cursor, limit, unread)

    @get("/me/notifications/unread")
    async def unread_count(
        self,
        principal: NamedDependency[Principal],
        notifications: NamedDependency[NotificationService],
    ) -> UnreadCount:
        """How many of your notifications are unread; live as ``notification.unread``."""
        return await notifications.unread(principal)

    @post("/me/notifications/{notification_id:int}/read", status_code=200)
    async def mark_read(
        self,
        notification_id: IdPath,
        principal: NamedDependency[Principal],
        notifications: NamedDependency[NotificationService],
    ) -> UnreadCount:
        """Mark one notification read (again: no change); answers the unread count left."""
        return await notifications.mark_read(principal, notification_id)

    @post("/me/notifications/read", status_code=200)
    async def mark_all_read(
        self,
        principal: NamedDependency[Principal],
        notifications: NamedDependency[NotificationService],
    ) -> UnreadCount:
        """Mark every notification read; answers the unread count left (0)."""
        return await notifications.mark_all_read(principal)

    @get("/me/notification-settings")
    async def settings(
        self,
        principal: NamedDependency[Principal],
        notifications: NamedDependency[NotificationService],
    ) -> NotificationSettings:
        """Which kinds of notification you get (all, unless you switched some off)."""
        return await notifications.settings(principal)

    @put("/me/notification-settings")
    async def change_settings(
        self,
        data: JSONBody[dict[str, bool]],
        principal: NamedDependency[Principal],
        notifications: NamedDependency[NotificationService],
    ) -> NotificationSettings:
        """Switch kinds on (true) or off (false), e.g. ``{"follow": false}``; kinds not named keep
        their setting, an unknown kind is refused (400 ``unknown_notification_kind``)."""
        return await notifications.change_settings(principal, data)
