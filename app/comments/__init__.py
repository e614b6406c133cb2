"""Comments on videos: threads, edits within a window, media-position anchors, live events."""
