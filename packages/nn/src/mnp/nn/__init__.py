"""mnp.nn (contents arrive with their own change)."""
