"""Helpers that build real test clusters (network namespaces) for tests, `make demo` and benches."""
