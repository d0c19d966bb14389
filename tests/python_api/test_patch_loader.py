# tilestream.PatchLoader: batches equal read_region per patch, across a cohort of slides; grids (kept
# where a mask is set), shuffles fixed by seed and epoch, drop_last; batches are read ahead on C++
# threads (the loop does not wait for them when it is slower than the reading); a bad slide's error
# comes in its batch's turn; decode= is checked where no GPU is needed; and it needs no torch. Slides
# are generated with tifffile.
import subprocess
import sys
import time

import numpy as np
import pytest
import tifffile

import tilestream


def write_slide(path, pixels, compression='zlib'):
    with tifffile.TiffWriter(path) as tw:
        tw.write(pixels, tile=(128, 128), compression=compression, photometric='rgb')
        tw.write(pixels[::2, ::2], tile=(128, 128), compression=compression, photometric='rgb', subfiletype=1)
    return path


@pytest.fixture(scope='module')
def slides(tmp_path_factory):
    folder = tmp_path_factory.mktemp('patches')
    rng = np.random.default_rng(11)
    first = write_slide(folder / 'a.tif', rng.integers(0, 256, (700, 900, 3), dtype=np.uint8))
    second = write_slide(folder / 'b.tif', rng.integers(0, 256, (500, 1100, 3), dtype=np.uint8))
    return [first, second]


def reference(paths, patches, size, level):
    """Each patch read on its own with read_region."""
    with tilestream.open(paths[0]) as a, tilestream.open(paths[-1]) as b:
        handles = [a, b]
        return np.stack([handles[int(s)].read_region((int(x), int(y)), level, size) for s, x, y in patches])


@pytest.mark.parametrize('level', [0, 1])
def test_grid_batches_equal_read_region_per_patch(slides, level):
    with tilestream.PatchLoader(slides, (96, 64), level, batch_size=7, prefetch=3, threads=2) as loader:
        patches = loader.locations
        got_images, got_slides, got_locations = [], [], []
        for batch in loader:
            assert batch.images.dtype == np.uint8 and batch.images.shape[1:] == (64, 96, 3)
            assert batch.slide_indices.dtype == np.int64 and batch.locations.shape == (len(batch.images), 2)
            got_images.append(batch.images)
            got_slides.append(batch.slide_indices)
            got_locations.append(batch.locations)
        assert len(got_images) == len(loader) == -(-len(patches) // 7)
        np.testing.assert_array_equal(np.concatenate(got_slides), patches[:, 0])
        np.testing.assert_array_equal(np.concatenate(got_locations), patches[:, 1:])
        np.testing.assert_array_equal(np.concatenate(got_images), reference(slides, patches, (96, 64), level))
    # Whole patches only, side by side, both slides: 900 x 700 and 1100 x 500 at level 0.
    down = 2 ** level
    across = [(900 // down) // 96, (1100 // down) // 96]
    rows = [(700 // down) // 64, (500 // down) // 64]
    assert len(patches) == across[0] * rows[0] + across[1] * rows[1]


def test_given_locations_in_any_order_and_outside_the_level(slides):
    locations = np.array([[1, 1050, 480], [0, -20, -20], [0, 300, 300], [1, 0, 0], [0, 300, 300]])
    loader = tilestream.PatchLoader(slides, 50, locations=locations, batch_size=2)
    batches = list(loader)
    assert [len(b.images) for b in batches] == [2, 2, 1]
    np.testing.assert_array_equal(np.concatenate([b.images for b in batches]), reference(slides, locations, (50, 50), 0))
    per_slide = tilestream.PatchLoader(slides, 50, locations=[[(300, 300)], [(0, 0), (5, 5)]], batch_size=8)
    np.testing.assert_array_equal(per_slide.locations, [[0, 300, 300], [1, 0, 0], [1, 5, 5]])
    one = tilestream.PatchLoader(slides[0], 50, locations=[(1, 2), (3, 4)])
    np.testing.assert_array_equal(one.locations, [[0, 1, 2], [0, 3, 4]])


def test_shuffle_is_fixed_by_seed_and_epoch_and_visits_every_patch_once(slides):
    def epoch_locations(loader):
        return np.concatenate([np.column_stack([b.slide_indices, b.locations]) for b in loader])

    loader = tilestream.PatchLoader(slides, 64, batch_size=16, shuffle=True, seed=5)
    everything = {tuple(p) for p in loader.locations}
    first, second = epoch_locations(loader), epoch_locations(loader)
    assert {tuple(p) for p in first} == everything and len(first) == len(everything)
    assert {tuple(p) for p in second} == everything
    assert not np.array_equal(first, second)  # each pass is a new epoch
    again = tilestream.PatchLoader(slides, 64, batch_size=16, shuffle=True, seed=5)
    np.testing.assert_array_equal(epoch_locations(again), first)
    again.set_epoch(1)
    np.testing.assert_array_equal(epoch_locations(again), second)
    other_seed = tilestream.PatchLoader(slides, 64, batch_size=16, shuffle=True, seed=6)
    assert not np.array_equal(epoch_locations(other_seed), first)
    in_order = tilestream.PatchLoader(slides, 64, batch_size=16)
    np.testing.assert_array_equal(epoch_locations(in_order), in_order.locations)


def test_mask_keeps_the_patches_whose_centre_it_covers(slides):
    mask = np.zeros((7, 9), bool)  # one mask pixel per 100 x 100 level-0 pixels of the 900 x 700 slide
    mask[2:5, 3:8] = True
    loader = tilestream.PatchLoader(slides[0], 50, mask=mask, stride=25)
    kept = loader.locations
    everything = tilestream.PatchLoader(slides[0], 50, stride=25).locations
    centres_x, centres_y = everything[:, 1] + 25, everything[:, 2] + 25
    want = everything[mask[centres_y * 7 // 700, centres_x * 9 // 900]]
    np.testing.assert_array_equal(kept, want)
    assert 0 < len(kept) < len(everything)
    # One mask per slide, None for "all of it"
    both = tilestream.PatchLoader(slides, 50, mask=[mask, None])
    assert (both.locations[:, 0] == 1).sum() == len(tilestream.PatchLoader(slides[1], 50).locations)


def test_cover_edges_and_drop_last(slides):
    whole = tilestream.PatchLoader(slides[0], 200)  # 900 x 700: 4 x 3 whole patches
    assert len(whole.locations) == 12
    covering = tilestream.PatchLoader(slides[0], 200, cover_edges=True)  # 5 x 4, edges zero-padded
    assert len(covering.locations) == 20
    last = list(covering)[-1].images[-1]
    assert (last[100:] == 0).all() and (last[:, 100:] == 0).all()
    dropped = tilestream.PatchLoader(slides[0], 200, batch_size=5, drop_last=True)
    assert len(dropped) == 2 and [len(b.images) for b in dropped] == [5, 5]


def test_batches_are_read_ahead_while_the_loop_works(tmp_path):
    rng = np.random.default_rng(3)
    path = write_slide(tmp_path / 'big.tif', rng.integers(0, 256, (2048, 2048, 3), dtype=np.uint8), 'zlib')
    with tilestream.PatchLoader(path, 256, batch_size=16, prefetch=3, threads=1) as loader:
        start = time.perf_counter()
        it = iter(loader)  # the workers start here
        next(it)
        first = time.perf_counter() - start  # nothing was read ahead of the first
        time.sleep(max(0.3, 6 * first))  # the loop "trains"; the workers read the next three meanwhile
        waits = []
        for _ in range(3):
            start = time.perf_counter()
            next(it)
            waits.append(time.perf_counter() - start)
        assert max(waits) < first / 3, (first, waits)  # one batch takes ~30 ms to read here


def test_stopping_early_and_closing(slides):
    loader = tilestream.PatchLoader(slides, 32, batch_size=4, prefetch=4)
    for k, _ in enumerate(loader):
        if k == 2:
            break  # the workers stop; nothing hangs
    assert len(list(loader)) == len(loader)  # a new epoch starts afresh
    loader.close()
    with pytest.raises(tilestream.UsageError, match='closed'):
        iter(loader)
    mine = tilestream.open(slides[0])
    with tilestream.PatchLoader(mine, 32):
        pass
    assert not mine.closed  # a Slide passed in stays the caller's


def test_bad_arguments_are_usage_errors(slides, tmp_path):
    grey = tmp_path / 'grey.tif'
    tifffile.imwrite(grey, np.zeros((256, 256), np.uint8), tile=(128, 128))
    with pytest.raises(tilestream.UsageError, match='same samples.*grey.tif'):
        list(tilestream.PatchLoader([slides[0], grey], 32))
    cases = [
        (dict(slides=slides, size=0), 'size'),
        (dict(slides=slides, size=32, batch_size=0), 'batch_size'),
        (dict(slides=slides, size=32, prefetch=0), 'prefetch'),
        (dict(slides=slides, size=32, level=5), 'level 5 does not exist'),
        (dict(slides=slides, size=32, stride=(0, 4)), 'stride'),
        (dict(slides=slides, size=32, locations=[[(0, 0)]]), '1 location lists for 2 slides'),
        (dict(slides=slides, size=32, locations=np.array([[2, 0, 0]])), 'slide 2'),
        (dict(slides=slides, size=32, locations=[(0, 0)], mask=np.ones((2, 2))), 'leave them out'),
        (dict(slides=slides, size=32, mask=[np.ones((2, 2))]), '1 masks for 2 slides'),
        (dict(slides=slides, size=32, device='gpu'), 'device'),
        (dict(slides=slides, size=32, decode='gpu'), 'decode.*gpu.*needs device'),
        (dict(slides=slides, size=32, device='cpu', decode='gpu'), 'decode.*gpu.*needs device'),
        (dict(slides=slides, size=32, decode='bogus'), "decode.*'bogus'"),
        (dict(slides=slides, size=32, device='cuda', decode='bogus'), "decode.*'bogus'"),
        (dict(slides=slides, size=32, decode='GPU'), "decode.*'GPU'"),
        (dict(slides=[], size=32), 'at least one slide'),
    ]
    for kwargs, message in cases:
        with pytest.raises(tilestream.UsageError, match=message):
            list(tilestream.PatchLoader(**kwargs))


def test_decode_auto_and_cpu_read_host_batches_as_usual(slides):
    want = list(tilestream.PatchLoader(slides, 64, batch_size=16))
    for decode in ('auto', 'cpu'):
        got = list(tilestream.PatchLoader(slides, 64, batch_size=16, decode=decode))
        assert len(got) == len(want) > 1
        for g, w in zip(got, want):
            assert isinstance(g.images, np.ndarray)
            np.testing.assert_array_equal(g.images, w.images)
            np.testing.assert_array_equal(g.locations, w.locations)


def test_a_corrupt_slide_fails_in_its_batch_turn_naming_the_file(slides, tmp_path):
    data = bytearray(slides[0].read_bytes())
    with tifffile.TiffFile(slides[0]) as tf:
        page = tf.pages[0]
        offset, count = page.dataoffsets[3], page.databytecounts[3]  # tile (0, 3): x 384-511, y 0-127
    data[offset:offset + count] = b'\xff' * count  # no longer a deflate stream
    broken = tmp_path / 'broken.tif'
    broken.write_bytes(bytes(data))
    locations = [(0, 0), (0, 0), (400, 10), (0, 0)]  # batch 1 holds the broken tile
    it = iter(tilestream.PatchLoader(broken, 32, locations=locations, batch_size=2, prefetch=2))
    assert len(next(it).images) == 2
    with pytest.raises(tilestream.CodecError, match='broken.tif'):
        next(it)


def test_no_torch_needed(slides):
    # In a fresh interpreter: loading and iterating imports neither torch nor MONAI.
    code = ('import sys, tilestream\n'
            f'loader = tilestream.PatchLoader({str(slides[0])!r}, 64, batch_size=4)\n'
            'n = sum(len(b.images) for b in loader)\n'
            'assert n == len(loader.locations) > 0, n\n'
            'print(sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "monai", "cupy")))\n')
    done = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == '[]', done.stdout


def test_torch_data_loader_takes_it(slides):
    torch = pytest.importorskip('torch')

    class Patches(torch.utils.data.IterableDataset):
        def __iter__(self):
            for batch in tilestream.PatchLoader(slides, 64, batch_size=8):
                yield torch.from_numpy(batch.images), torch.from_numpy(batch.locations)

    total = 0
    for images, locations in torch.utils.data.DataLoader(Patches(), batch_size=None):
        assert images.shape[1:] == (64, 64, 3) and images.dtype == torch.uint8
        total += len(locations)
    assert total == len(tilestream.PatchLoader(slides, 64).locations)
