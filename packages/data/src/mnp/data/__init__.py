"""mnp.data (contents arrive with their own change)."""
