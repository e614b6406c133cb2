"""Media storage, transcoding and segment serving (see the media issue)."""
