"""The opening (开标): one state machine per tender, its live room, the opening record. See docs/opening.md."""
