"""Japanese text normalisation."""
