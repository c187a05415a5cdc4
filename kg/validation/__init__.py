"""SHACL validation: shapes compiled to per-entity checks, and pySHACL as the reference."""
