"""cucim.core.operations.color.image_to_absorbance in numpy (see fake_cucim/cucim)."""
import numpy as np


def image_to_absorbance(image, source_intensity=255.0, dtype=np.float32):
    """cucim's formula for integer input: -log(clip(I, 1, source) / source) in `dtype`."""
    image = image.astype(dtype)
    return -np.log(np.clip(image, 1, source_intensity) / dtype(source_intensity))
