"""Staff users, roles, password login, bearer tokens and browser sessions."""
