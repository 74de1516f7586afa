"""How the product says things to people: durations and values, and Unicode PDFs."""
