"""The differentiable ops of mnp.nn (`Function` subclasses, forward and backward side by side)
and the checked functions that apply them; `mnp.nn.functional` is the public face."""
