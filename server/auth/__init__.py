"""Staff accounts, roles, password login and the session cookie."""
