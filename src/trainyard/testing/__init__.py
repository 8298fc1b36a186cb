"""Conformance suites shipped with trainyard, for every implementation of a seam.

``trainyard.testing.store_suite.StoreSuite`` checks the contract of ``trainyard.store.Store``;
it needs pytest and hypothesis (the ``dev`` extra), which trainyard itself does not import.
"""
