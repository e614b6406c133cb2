"""The social graph: follows, friends, blocks, mutes, people you may know, social video picks."""
