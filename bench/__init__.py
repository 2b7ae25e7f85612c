"""Benchmark harness for POST /oauth2/token (``make bench``); see bench/README.md."""
