"""The Japan base-registry knowledge graph.

Loads the National Tax Agency's corporate numbers, the Digital Agency's Address Base Registry,
e-Gov laws and jGrants support programs into an Oxigraph store as validated, linked RDF.
"""

__version__ = "0.1.0"
