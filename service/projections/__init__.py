"""Read models built from the log: inline ones in the append's transaction, others caught up."""
