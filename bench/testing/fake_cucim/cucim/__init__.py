"""CPU stand-in for the few cucim calls of the use case 3 baseline (bench/gpu_process_bench.py):
cucim.skimage's filters, color, transform and util are scikit-image's own functions, which the fake
cupy's host arrays pass straight through, and image_to_absorbance is cucim's formula in numpy. For
bench/testing/test_process_bench.py only; never on sys.path elsewhere."""
__version__ = "fake-cpu"
