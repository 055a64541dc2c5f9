"""The doorstroomtoets chain: results in from test providers, registrations out."""
