"""Recording advice: the trajectory commands and queries, and their HTTP routes."""
