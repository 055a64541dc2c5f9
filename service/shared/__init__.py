"""Types every layer speaks in: who issues a command and what it answered."""
