"""Hand-written PyTorch reference models the generated modules are compared against."""
