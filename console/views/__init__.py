"""The console's views, one module per area: providers, keystore, diagnostics."""
