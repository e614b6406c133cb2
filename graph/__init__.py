"""Social graph projection and recommendations (see the social graph issue)."""
