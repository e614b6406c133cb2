"""The realtime library: websocket gateway, node, protocol, bus, presence, outbox; no feature inside."""
