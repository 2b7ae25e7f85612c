"""System checks for the PRIVATE_KEY_JWT setting (filled in with the verifier)."""
