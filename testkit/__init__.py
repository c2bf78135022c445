"""Builders shared by the tests and the benchmarks, so that neither imports the other."""
