"""CSV imports for schools without a working chain: pupils and parents, toets results."""
