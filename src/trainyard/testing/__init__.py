"""Conformance suites shipped with trainyard, for every implementation of a seam."""
