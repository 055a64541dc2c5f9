"""Notices to people: who must hear of what (a heroverweging to the class teachers and IB), built on
the accounts, the school's settings and the outbox. Above both accounts and outbox, so neither
needs the other."""
