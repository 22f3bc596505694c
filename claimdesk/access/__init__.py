"""Who may do what: sign-in, the role × action policy, and showing PHI only where it is needed."""
