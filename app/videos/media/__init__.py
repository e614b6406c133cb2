"""A video's media: uploads, the transcoding jobs and their worker, serving and purging the files.

Built on the ``media`` library; kept with the videos feature because every step reads or changes
the video's record (its status, its owner, its visibility).
"""
