"""What must happen after an append: rows written with the events, delivered by workers."""
