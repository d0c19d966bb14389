"""CPU stand-in for cupyx.empty_pinned (see fake_gpu/cupy); cupyx.scipy.ndimage is scipy's."""
import numpy as np


def empty_pinned(shape, dtype=float):
    return np.empty(shape, dtype)
