"""Websocket gateway, channels and watch parties (see the realtime gateway issue)."""
