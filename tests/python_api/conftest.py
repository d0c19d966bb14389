# The Python API's tests run against the installed package (`import tilestream` from site-packages:
# the test command builds the wheel and installs it into a fresh virtual environment), with the shared
# test slides and the pure helpers of the command-line tests (tests/python: tifffile references, the
# mutation table).
import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# The shared test slides; TILESTREAM_TESTDATA (relative to the repository) names a copy where
# ../shared does not travel (the GPU machine: .testslides, bench/device/prepare.sh).
TESTDATA = REPO_ROOT / os.environ.get('TILESTREAM_TESTDATA', '../shared/testdata')
sys.path.insert(0, str(REPO_ROOT / 'tests' / 'python'))

SLIDE_SUFFIXES = {'.tif', '.tiff', '.svs', '.ndpi'}
SLIDES = sorted(p.relative_to(TESTDATA).as_posix() for p in TESTDATA.rglob('*')
                if p.suffix.lower() in SLIDE_SUFFIXES) if TESTDATA.is_dir() else []
# Without the folder, one placeholder case per test reports the skip instead of vanishing silently.
slide_params = pytest.mark.parametrize('slide', SLIDES or ['(testdata absent)'])


@pytest.fixture(scope='session')
def testdata() -> Path:
    """The shared test slides folder; tests using it skip where it is absent."""
    if not TESTDATA.is_dir():
        pytest.skip(f'shared test slides not found at {TESTDATA.resolve()}')
    return TESTDATA.resolve()
