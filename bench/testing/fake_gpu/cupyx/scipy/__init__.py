"""CPU stand-in for cupyx.scipy (see fake_gpu/cupy)."""
