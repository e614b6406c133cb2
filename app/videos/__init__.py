"""The video catalog: videos as rows (title, owner, visibility, status) and who may see them."""
