"""CPU stand-in for cupyx.scipy.ndimage: scipy.ndimage itself (see fake_gpu/cupy)."""
from scipy.ndimage import convolve, gaussian_filter, median_filter  # noqa: F401
