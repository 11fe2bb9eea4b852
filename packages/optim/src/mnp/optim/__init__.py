"""mnp.optim (contents arrive with their own change)."""
