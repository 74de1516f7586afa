"""People: accounts and sign-in, user administration, password reset, sign-in throttling."""
