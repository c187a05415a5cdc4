"""Loading: the pipeline in steps, upserts, reports, provenance and the loader contract."""
