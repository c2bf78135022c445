"""Shared fixtures. Unit tests need nothing; integration tests use the local stack (`make up`)."""
