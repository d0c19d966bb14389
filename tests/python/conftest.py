# Fixtures shared by the Python comparison tests: the tilestream binary (from TILESTREAM_BIN) and
# the location of the shared test slides.
import os
from pathlib import Path

import pytest

from tilestream_cli import Cli

REPO_ROOT = Path(__file__).resolve().parents[2]
TESTDATA = REPO_ROOT / '..' / 'shared' / 'testdata'


@pytest.fixture(scope='session')
def cli() -> Cli:
    """The tilestream CLI named by TILESTREAM_BIN (absolute, or relative to the repository root)."""
    value = os.environ.get('TILESTREAM_BIN')
    if not value:
        pytest.fail('set TILESTREAM_BIN to the tilestream binary, e.g. TILESTREAM_BIN=build/release/tilestream')
    path = Path(value)
    if not path.is_absolute():
        path = REPO_ROOT / path
    if not path.is_file() or not os.access(path, os.X_OK):
        pytest.fail(f'TILESTREAM_BIN={value}: no executable at {path}; build it first (scripts/build.sh release)')
    return Cli(path)


@pytest.fixture(scope='session')
def testdata() -> Path:
    """The shared test slides folder; tests using it skip where it is absent."""
    if not TESTDATA.is_dir():
        pytest.skip(f'shared test slides not found at {TESTDATA.resolve()}')
    return TESTDATA.resolve()
