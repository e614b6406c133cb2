"""The media library: object storage, probing, transcoding to HLS, byte ranges and signed URLs.

It knows no feature (it imports only ``core``); uploads, the transcoding worker, purges and the
media endpoints use it from the videos feature (``app/videos/media/``).
"""
