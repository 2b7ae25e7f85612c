"""A stock DOT project, served by gunicorn for the drop-in tests; never imported by pytest."""
