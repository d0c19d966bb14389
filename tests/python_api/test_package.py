# What the wheel ships: the extension, its type stubs and py.typed beside the package, the version,
# and the exception classes with the built-in bases a Python user catches.
from pathlib import Path

import pytest

import tilestream


def test_the_installed_package_ships_stubs_and_py_typed():
    folder = Path(tilestream.__file__).parent
    assert (folder / 'py.typed').is_file()
    stub = (folder / '_tilestream.pyi').read_text()
    for name in ('class Slide', 'def read_region', '-> numpy.typing.NDArray', 'def open', 'class AssociatedImages',
                 'class Error(Exception)', 'class FormatError(Error, ValueError)', 'class CodecError(Error, ValueError)',
                 'class UnsupportedError(Error, ValueError)', 'class UsageError(Error, ValueError)',
                 'class IoError(Error, OSError)', 'class CudaError(Error, RuntimeError)',
                 'class ResourceError(Error, MemoryError)', 'class StoppedError(Error, RuntimeError)',
                 'class _PatchStream', 'def _run_command'):
        assert name in stub, f'{name} missing from the stubs'


def test_version_is_the_projects():
    assert tilestream.__version__ == '0.1.0'
    assert isinstance(tilestream.with_cuda, bool)


@pytest.mark.parametrize('name, builtin', [
    ('FormatError', ValueError), ('CodecError', ValueError), ('UnsupportedError', ValueError),
    ('IoError', OSError), ('CudaError', RuntimeError), ('UsageError', ValueError),
    ('ResourceError', MemoryError), ('StoppedError', RuntimeError),
])
def test_every_error_class_derives_from_error_and_its_builtin(name, builtin):
    cls = getattr(tilestream, name)
    assert issubclass(cls, tilestream.Error) and issubclass(cls, builtin)
    assert cls.__module__ == 'tilestream' and cls.__doc__


def test_docstrings_say_what_calls_do():
    assert 'level-0 pixels' in tilestream.Slide.read_region.__doc__
    assert 'OpenSlide' in tilestream.Slide.get_best_level_for_downsample.__doc__
    assert tilestream.open.__doc__
    assert 'prefetch' in tilestream.PatchLoader.__doc__ and 'resume=True' in tilestream.convert.__doc__
    assert 'ops' in tilestream.process.__doc__
