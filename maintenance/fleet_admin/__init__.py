"""Fleet administration: machines and sensors checked, changed, retired, imported from CSV."""
