"""Schools and pupils in the register (personal data, kept out of the log), and the demo school."""
