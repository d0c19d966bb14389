# tilestream.convert and tilestream.process: the command line's options as keyword arguments, the
# run report as a dict, progress to a callable or a tqdm bar, the GIL released, and Ctrl-C (or an
# exception from the progress callable) stopping a run cleanly, leaving a store that resume=True
# finishes equal to one uninterrupted run. Slides are generated with tifffile.
import json
import os
import signal
import threading
from pathlib import Path

import numpy as np
import pytest
import tifffile

import tilestream


@pytest.fixture(scope='module')
def slide(tmp_path_factory):
    path = tmp_path_factory.mktemp('commands') / 'slide.tif'
    rng = np.random.default_rng(4)
    pixels = rng.integers(0, 256, (1200, 1500, 3), dtype=np.uint8)
    with tifffile.TiffWriter(path) as tw:
        tw.write(pixels, tile=(128, 128), compression='zlib', photometric='rgb')
        tw.write(pixels[::2, ::2], tile=(128, 128), compression='zlib', photometric='rgb', subfiletype=1)
    return path


def files(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob('*')) if p.is_file()}


def chunk_array(store: Path, array: str, shape, chunk, dtype=np.uint8):
    """A Zarr v3 array of uncompressed chunks (codec none) read back by hand, (y, x, c) layout."""
    meta = json.loads((store / array / 'zarr.json').read_text())
    assert meta['shape'] == list(shape) and meta['chunk_grid']['configuration']['chunk_shape'][:2] == [chunk, chunk]
    out = np.zeros(shape, dtype)
    for cy in range(-(-shape[0] // chunk)):
        for cx in range(-(-shape[1] // chunk)):
            raw = (store / array / 'c' / str(cy) / str(cx) / '0').read_bytes()
            block = np.frombuffer(raw, dtype).reshape(chunk, chunk, shape[2])
            h, w = min(chunk, shape[0] - cy * chunk), min(chunk, shape[1] - cx * chunk)
            out[cy * chunk:cy * chunk + h, cx * chunk:cx * chunk + w] = block[:h, :w]
    return out


def test_convert_takes_the_options_as_keywords_and_returns_the_report(slide, tmp_path):
    out = tmp_path / 'plain.zarr'
    report = tilestream.convert(slide, out, chunk=256, codec='none', levels=[0, 1], threads=2)
    assert report['command'] == 'convert' and report['chunk'] == 256 and report['threads'] == 2
    assert report['arrays'] == ['0', '1'] and report['blocks'] == 5 * 6 + 3 * 3
    assert report['bytes_written'] > 0 and report['total_seconds'] > 0
    with tilestream.open(slide) as s:
        for level, array in enumerate(report['arrays']):
            w, h = s.level_dimensions[level]
            np.testing.assert_array_equal(chunk_array(out, array, (h, w, 3), 256), s.read_region((0, 0), level, (w, h)))
    v2 = tilestream.convert(slide, tmp_path / 'v2.zarr', zarr_version=2, ome=True, separator='.', chunk=512)
    assert (tmp_path / 'v2.zarr' / '.zattrs').is_file() and v2['arrays'][0] == '0'
    assert 'multiscales' in json.loads((tmp_path / 'v2.zarr' / '.zattrs').read_text())


def test_process_runs_ops_tiled_equal_to_global(slide, tmp_path):
    tiled = tilestream.process(slide, tmp_path / 'tiled.zarr', ['grayscale', 'gaussian:sigma=2'], chunk=128,
                               memory='4M', codec='none')
    assert tiled['command'] == 'process' and tiled['ops'] == ['grayscale', 'gaussian:sigma=2']
    assert tiled['result']['dtype'] == 'float32' and tiled['mode'] == 'tiled'
    whole = tilestream.process(slide, tmp_path / 'global.zarr', 'grayscale', mode='global', chunk=128, codec='none')
    assert whole['ops'] == ['grayscale'] and whole['mode'] == 'global'
    again = tilestream.process(slide, tmp_path / 'global2.zarr', ['grayscale', 'gaussian:sigma=2'], mode='global',
                               chunk=128, codec='none')
    assert files(tmp_path / 'tiled.zarr') == files(tmp_path / 'global2.zarr')


@pytest.mark.parametrize('call, message', [
    (lambda s, o: tilestream.convert(s, o, bogus_option=3), '--bogus-option'),
    (lambda s, o: tilestream.convert(s, o, chunk=0), 'chunk'),
    (lambda s, o: tilestream.convert(s, o, codec='lz77'), 'lz77'),
    (lambda s, o: tilestream.convert(s, o, json=True), 'return value'),
    (lambda s, o: tilestream.convert(s, o, progress='yes'), 'progress'),
    (lambda s, o: tilestream.process(s, o, []), 'at least one op'),
    (lambda s, o: tilestream.process(s, o, 'blur'), 'blur'),
])
def test_bad_options_are_usage_errors(slide, tmp_path, call, message):
    with pytest.raises(tilestream.UsageError, match=message):
        call(slide, tmp_path / 'bad.zarr')


def test_a_missing_slide_names_the_file(tmp_path):
    with pytest.raises(tilestream.IoError, match='no-such.svs'):
        tilestream.convert(tmp_path / 'no-such.svs', tmp_path / 'out.zarr')
    assert not (tmp_path / 'out.zarr').exists()


def test_progress_goes_to_a_callable(slide, tmp_path):
    seen = []
    report = tilestream.convert(slide, tmp_path / 'p.zarr', chunk=128, threads=1, progress=seen.append)
    assert seen, 'no progress reported'
    assert all(set(p) == {'done', 'total', 'skipped', 'bytes_written'} for p in seen)
    assert all(p['done'] <= p['total'] for p in seen)
    assert [p['done'] for p in seen] == sorted(p['done'] for p in seen)
    assert seen[-1]['done'] == seen[-1]['total'] == report['blocks']


def test_progress_true_draws_a_tqdm_bar(slide, tmp_path, capsys):
    pytest.importorskip('tqdm')
    tilestream.convert(slide, tmp_path / 'bar.zarr', chunk=256, progress=True)
    err = capsys.readouterr().err
    assert 'convert' in err and '100%' in err, err


def interrupted_then_resumed(slide, tmp_path, stop_with):
    """Converts with a progress callable that stops the run at its first report, checks what is left,
    resumes, and compares with one uninterrupted run."""
    options = dict(chunk=64, ome=True, threads=1, codec='none')
    whole = tmp_path / 'whole.zarr'
    tilestream.convert(slide, whole, **options)
    out = tmp_path / 'stopped.zarr'
    with pytest.raises(BaseException) as raised:
        tilestream.convert(slide, out, progress=stop_with, **options)
    left = files(out)
    assert not any('.partial' in key for key in left), 'half-written files left'
    reference = files(whole)
    blocks = [key for key in left if 'zarr.json' not in key]
    assert 0 < len(blocks) < len([k for k in reference if 'zarr.json' not in k])
    assert all(left[key] == reference[key] for key in blocks), 'a block left is not whole'
    assert 'zarr.json' not in left  # the root group comes after the last block
    report = tilestream.convert(slide, out, resume=True, **options)
    assert report['blocks_skipped'] == len(blocks)
    assert files(out) == reference
    return raised


@pytest.fixture
def ctrl_c_raises():
    """Python's own SIGINT handler, as in an interactive session: a process started in the background
    by a shell (CI) inherits SIGINT ignored, and Python then leaves it so."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_ctrl_c_stops_cleanly_and_resume_finishes_the_store(slide, tmp_path, ctrl_c_raises):
    def press_ctrl_c(progress):
        os.kill(os.getpid(), signal.SIGINT)  # as a terminal's Ctrl-C: Python's handler flags it

    raised = interrupted_then_resumed(slide, tmp_path, press_ctrl_c)
    assert raised.type is KeyboardInterrupt


def test_an_exception_in_the_progress_callable_stops_the_run_and_is_raised(slide, tmp_path):
    class Enough(Exception):
        pass

    def stop(progress):
        raise Enough(progress['done'])

    raised = interrupted_then_resumed(slide, tmp_path, stop)
    assert raised.type is Enough


def test_the_gil_is_released_while_it_runs(slide, tmp_path):
    done = threading.Event()
    ticks = 0

    def run():
        tilestream.convert(slide, tmp_path / 'gil.zarr', chunk=64, threads=1, codec='gzip:9')
        done.set()

    worker = threading.Thread(target=run)
    worker.start()
    while not done.is_set():
        ticks += 1
        done.wait(0.001)
    worker.join()
    assert ticks > 20, ticks  # this thread kept running while the conversion did
