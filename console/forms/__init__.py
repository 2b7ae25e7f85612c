"""The console's forms: each validates by calling the function its command calls."""
