"""scikit-image standing in for cucim.skimage (see fake_cucim/cucim)."""
from skimage import color, filters, transform, util  # noqa: F401
