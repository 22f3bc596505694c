"""Human review, generic: a task is a person's step in a flow; it knows no kind by name."""
