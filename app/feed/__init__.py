"""Activities and the feed built from them: what the people you follow did."""
