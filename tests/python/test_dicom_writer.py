"""The DICOM WSI series of dicom_writer.py checked against the reference readers alone (no tilestream):
for each variant OpenSlide 4 (openslide-bin 4.0.1: `openslide.OpenSlide(any file of the series)`) and
wsidicom 0.31 (`wsidicom.WsiDicom.open(folder)`) either open the series and give the expected pixels at
every level and for every associated image, or refuse it with the message written in VARIANTS.
Lossless syntaxes give the pixels written exactly; lossy ones (JPEG baseline at quality 90, JPEG 2000
9/7 at 45 dB) give the frames as imagecodecs decodes them, exactly too (the readers' libjpeg-turbo and
OpenJPEG agree with imagecodecs' on these frames), and those are within LOSSY_MEAN / LOSSY_MAX of the
source.

What the references do, found here and asserted below:
- Missing TILED_SPARSE tiles: OpenSlide leaves them transparent (RGBA 0, 0, 0, 0: RGB zeros once alpha is
  dropped, which is what tilestream reads); wsidicom paints them white (255 in every sample).
- Several focal planes (TotalPixelMatrixFocalPlanes 2): OpenSlide refuses the series ("Attribute
  TotalPixelMatrixFocalPlanes value 2 != 1"); wsidicom lists the planes by their z in micrometres
  (focal_planes [0.0, 2.0]: from DistanceBetweenFocalPlanes in mm for TILED_FULL, from each frame's
  ZOffsetInSlideCoordinateSystem, in micrometres, for TILED_SPARSE) and reads either
  (read_region(..., z=2.0) gives plane 1).
- Several optical paths (NumberOfOpticalPaths 2, frames of path 1 then path 2): OpenSlide ignores the
  paths; of a TILED_FULL level it reads the first frames, the first path's. wsidicom maps TILED_FULL
  frames to paths in the order of a Python set of their identifiers, so which path reads the first
  frames changes with PYTHONHASHSEED (optical_paths ['2', '1'] or ['1', '2']); its pixels are no
  reference there. (Of a TILED_SPARSE level of 2 paths, which this writer makes too, wsidicom reads
  each path right by its frames' OpticalPathIdentificationSequence, while OpenSlide takes either path's
  frame for each tile: 15 tiles of path 1 and 11 of path 2 in one such level; no such variant is kept.)
- OpenSlide takes only explicit VR little endian native, JPEG baseline and JPEG 2000, of 3 samples of 8
  bits with PlanarConfiguration 0: implicit VR, planar RGB and MONOCHROME2 (which has no
  PlanarConfiguration) are refused by name. wsidicom refuses planar RGB (it skips each file as "Unsupported
  planar configuration 1." and then finds no level) and gives 16-bit grey as int32 images.
- Properties: OpenSlide names every element of the first file of level 0 (its file meta information
  too) `dicom.Keyword`, `dicom.Keyword[i]` for multi-valued ones, `dicom.Seq[i].Keyword` inside
  sequences; strings (DS and IS too) as stored, FL / FD with 17 significant digits (ImagedVolumeWidth
  0.1665 stored as FL reads '0.16650000214576721'), SoftwareVersions of two values as one string with
  its backslash; empty sequences and binary elements give nothing.
"""
import warnings

import numpy as np
import pydicom
import pytest

from dicom_writer import SYNTAXES, Variant, plane_pixels, write_series
from tilestream_cli import assert_pixels, content

openslide = pytest.importorskip('openslide')
wsidicom = pytest.importorskip('wsidicom')

LEVEL_SHAPES = [(300, 333), (150, 167), (75, 84)]  # (height, width): not multiples of the tiles
ASSOCIATED_SHAPES = {'label': (40, 60), 'macro': (50, 120), 'thumbnail': (60, 66)}
LOSSY_MEAN, LOSSY_MAX = 5.0, 40  # lossy frames against the source: mean and max |diff|

OS_SYNTAX = 'Unsupported transfer syntax 1.2.840.10008.1.2'
OS_PLANAR = 'Attribute PlanarConfiguration value 1 != 0'
OS_GREY = "Couldn't read PlanarConfiguration"
OS_PLANES = 'Attribute TotalPixelMatrixFocalPlanes value 2 != 1'
WSI_PLANAR = 'Level files not found in provided files'


def case(name, variant, samples=3, dtype='uint8', openslide_refuses=None, wsidicom_refuses=None):
    """A variant and what the references do with it. wsidicom's level pixels are a reference unless it
    refuses the series or the levels have several optical paths (see the top of this file)."""
    return pytest.param(dict(name=name, variant=variant, samples=samples, dtype=dtype,
                             openslide_refuses=openslide_refuses, wsidicom_refuses=wsidicom_refuses,
                             wsidicom_levels=not wsidicom_refuses and variant.optical_paths == 1), id=name)


VARIANTS = [
    case('explicit-rgb', Variant()),
    case('implicit-rgb', Variant('implicit'), openslide_refuses=OS_SYNTAX),
    case('explicit-rgb-planar', Variant(planar=1), openslide_refuses=OS_PLANAR, wsidicom_refuses=WSI_PLANAR),
    case('implicit-rgb-planar', Variant('implicit', planar=1), openslide_refuses=OS_SYNTAX,
         wsidicom_refuses=WSI_PLANAR),
    case('explicit-grey8', Variant(photometric='MONOCHROME2'), samples=1, openslide_refuses=OS_GREY),
    case('explicit-grey16', Variant(photometric='MONOCHROME2'), samples=1, dtype='uint16', openslide_refuses=OS_GREY),
    case('implicit-grey16', Variant('implicit', 'MONOCHROME2'), samples=1, dtype='uint16',
         openslide_refuses=OS_SYNTAX),
    case('explicit-rgb-tile-96x48', Variant(tile=(96, 48))),
    case('jpeg-ybr422', Variant('jpeg', 'YBR_FULL_422')),
    case('jpeg-ybr422-no-bot', Variant('jpeg', 'YBR_FULL_422', offset_table='empty')),
    case('jpeg-ybr422-extended', Variant('jpeg', 'YBR_FULL_422', offset_table='extended')),
    case('jpeg-rgb', Variant('jpeg', 'RGB')),
    case('jpeg-grey', Variant('jpeg', 'MONOCHROME2'), samples=1, openslide_refuses=OS_GREY),
    case('j2k-ybr-rct', Variant('j2k', 'YBR_RCT')),
    case('j2k-rgb-no-bot', Variant('j2k', 'RGB', offset_table='empty')),
    case('j2k-grey16', Variant('j2k', 'MONOCHROME2'), samples=1, dtype='uint16', openslide_refuses=OS_GREY),
    case('j2k-lossy-ybr-ict', Variant('j2k-lossy', 'YBR_ICT')),
    case('j2k-lossy-rgb-extended', Variant('j2k-lossy', 'RGB', offset_table='extended')),
    case('htj2k-rgb', Variant('htj2k', 'RGB'), openslide_refuses='Unsupported transfer syntax 1.2.840.10008.1.2.4.201'),
    case('sparse-explicit', Variant(sparse=True)),
    case('sparse-jpeg-no-bot', Variant('jpeg', 'YBR_FULL_422', sparse=True, offset_table='empty', seed=3)),
    case('sparse-j2k-extended', Variant('j2k', 'YBR_RCT', sparse=True, offset_table='extended', seed=5)),
    case('concatenation-full', Variant(concatenation=2)),
    case('concatenation-sparse-jpeg', Variant('jpeg', 'YBR_FULL_422', sparse=True, concatenation=2, seed=7)),
    case('focal-planes-2', Variant(focal_planes=2), openslide_refuses=OS_PLANES),
    case('sparse-focal-planes-2', Variant('jpeg', 'YBR_FULL_422', sparse=True, focal_planes=2, seed=9),
         openslide_refuses=OS_PLANES),
    case('optical-paths-2', Variant(optical_paths=2)),
]


def make_series(folder, spec, prefix=''):
    """The variant's series of LEVEL_SHAPES and the three associated images, seed-deterministic content."""
    samples, dtype = spec['samples'], spec['dtype']
    levels = [content(h, w, samples, dtype, seed=k) for k, (h, w) in enumerate(LEVEL_SHAPES)]
    associated = {name: content(h, w, samples, dtype, seed=10 + k)
                  for k, (name, (h, w)) in enumerate(ASSOCIATED_SHAPES.items())}
    return write_series(folder, levels, spec['variant'], associated, prefix=prefix), levels, associated


def first_file(series):
    """The file to open a series by: level 0's first part."""
    return series.levels[0].files[0].path


def missing_mask(series, k):
    """(h, w) True where level k's tiles are left out."""
    level = series.levels[k]
    columns, rows = series.variant.tile
    mask = np.zeros(level.expected.shape[:2], bool)
    for column, row in level.missing:
        mask[row * rows:(row + 1) * rows, column * columns:(column + 1) * columns] = True
    return mask


def openslide_rgb(osr, level, region=None):
    """OpenSlide's RGBA of a level, or of (x, y, w, h) of level 0, as (rgb, alpha). (A region of another
    level starts at a level-0 location that OpenSlide divides by a downsample that is not whole here, and
    resamples.)"""
    assert region is None or level == 0
    x, y, w, h = region or (0, 0, *osr.level_dimensions[level])
    rgba = np.asarray(osr.read_region((x, y), level, (w, h)))
    return rgba[..., :3], rgba[..., 3]


def wsidicom_open(folder):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # pydicom's deprecation of get_frame_offsets, which wsidicom calls
        return wsidicom.WsiDicom.open(folder)


def wsidicom_level(wsi, k, z=None, path=None):
    level = wsi.levels[k]
    image = np.asarray(wsi.read_region((0, 0), level.level, level.size.to_tuple(), z=z, path=path))
    return image[..., np.newaxis] if image.ndim == 2 else image


def wsidicom_associated(wsi, name):
    image = {'label': wsi.read_label, 'macro': wsi.read_overview,
             'thumbnail': lambda: wsi.pyramid.thumbnails[0].get_default_full()}[name]()
    image = np.asarray(image)
    return image[..., np.newaxis] if image.ndim == 2 else image


@pytest.fixture(scope='module')
def series_of(tmp_path_factory):
    made = {}

    def make(spec):
        if spec['name'] not in made:
            made[spec['name']] = make_series(tmp_path_factory.mktemp(spec['name']), spec)
        return made[spec['name']]
    return make


@pytest.mark.parametrize('spec', VARIANTS)
def test_the_files_hold_what_the_variant_says(series_of, spec):
    series, levels, _ = series_of(spec)
    variant = spec['variant']
    for k, level in enumerate(series.levels):
        datasets = [pydicom.dcmread(instance.path) for instance in level.files]
        assert len(datasets) == (variant.concatenation if k == 0 else 1)
        columns, rows = variant.tile
        across, down = -(-levels[k].shape[1] // columns), -(-levels[k].shape[0] // rows)
        stored = [(index, plane) for instance in level.files for index, plane in instance.frames]
        assert len(stored) == (across * down - len(level.missing)) * variant.focal_planes * variant.optical_paths
        assert sum(int(ds.NumberOfFrames) for ds in datasets) == len(stored)
        for part, ds in enumerate(datasets):
            assert ds.file_meta.TransferSyntaxUID == SYNTAXES[variant.syntax]
            assert (ds.Columns, ds.Rows) == variant.tile
            assert (ds.TotalPixelMatrixColumns, ds.TotalPixelMatrixRows) == levels[k].shape[1::-1]
            assert ds.DimensionOrganizationType == ('TILED_SPARSE' if variant.sparse else 'TILED_FULL')
            assert ds.SeriesInstanceUID == series.series_instance_uid
            if variant.concatenation > 1 and k == 0:
                assert ds.InConcatenationNumber == part + 1 and ds.InConcatenationTotalNumber == 2
                assert ds.ConcatenationFrameOffsetNumber == sum(len(i.frames) for i in level.files[:part])
                assert ds.SOPInstanceUIDOfConcatenationSource != ds.SOPInstanceUID
            if variant.sparse:
                positions = [(g.PlanePositionSlideSequence[0].ColumnPositionInTotalImagePixelMatrix,
                              g.PlanePositionSlideSequence[0].RowPositionInTotalImagePixelMatrix)
                             for g in ds.PerFrameFunctionalGroupsSequence]
                frames = level.files[part].frames
                assert positions == [(c * columns + 1, r * rows + 1) for (c, r), _ in frames]
            if variant.encapsulated:
                raw = ds.PixelData
                bot_length = int.from_bytes(raw[4:8], 'little')
                assert bot_length == (4 * int(ds.NumberOfFrames) if variant.offset_table == 'basic' else 0)
                assert ('ExtendedOffsetTable' in ds) == (variant.offset_table == 'extended')
        if variant.sparse:
            assert level.missing, 'a sparse level leaves tiles out'
            order = [index for index, _ in stored]
            assert order != sorted(order, key=lambda t: (t[1], t[0])), 'sparse frames are shuffled'


@pytest.mark.parametrize('spec', VARIANTS)
def test_lossy_frames_are_close_to_the_source(series_of, spec):
    series, levels, _ = series_of(spec)
    for k, level in enumerate(series.levels):
        keep = ~missing_mask(series, k)
        diff = np.abs(level.expected.astype(np.int64) - levels[k])[keep]
        if series.variant.lossy:
            assert diff.max() > 0, f'level {k}: a lossy variant should change some pixels'
            assert diff.mean() < LOSSY_MEAN and diff.max() <= LOSSY_MAX, (k, diff.mean(), diff.max())
        else:
            assert diff.max(initial=0) == 0, f'level {k}: lossless pixels differ from the source'
        assert not level.expected[~keep].any(), 'left-out tiles are expected as zeros'


@pytest.mark.parametrize('spec', VARIANTS)
def test_openslide_reads_the_series(series_of, spec):
    series, _, _ = series_of(spec)
    if spec['openslide_refuses']:
        with pytest.raises(openslide.OpenSlideError) as refused:
            openslide.OpenSlide(str(first_file(series)))
        assert spec['openslide_refuses'] in str(refused.value)
        assert str(first_file(series)) in str(refused.value)
        return
    for path in series.paths():  # any file of the series opens the whole slide
        osr = openslide.OpenSlide(str(path))
        assert osr.level_count == len(LEVEL_SHAPES)
    props = osr.properties
    assert props['openslide.vendor'] == 'dicom'
    assert list(osr.level_dimensions) == [(w, h) for h, w in LEVEL_SHAPES]
    for k in range(osr.level_count):
        tile = (int(props[f'openslide.level[{k}].tile-width']), int(props[f'openslide.level[{k}].tile-height']))
        assert tile == spec['variant'].tile
        rgb, alpha = openslide_rgb(osr, k)
        missing = missing_mask(series, k)
        assert (alpha == np.where(missing, 0, 255)).all(), f'level {k}: alpha'
        assert_pixels(rgb, series.levels[k].expected, 0, f'level {k}')
    assert {name: image.size for name, image in osr.associated_images.items()} == {
        name: (w, h) for name, (h, w) in ASSOCIATED_SHAPES.items()}
    for name, (_, expected) in series.associated.items():
        image = np.asarray(osr.associated_images[name])
        assert (image[..., 3] == 255).all()
        assert_pixels(image[..., :3], expected, 0, name)
    assert props['openslide.mpp-x'] == '0.5' and props['openslide.mpp-y'] == '0.25'
    assert props['dicom.SeriesInstanceUID'] == series.series_instance_uid
    assert props['dicom.ImagedVolumeWidth'] == '0.16650000214576721'  # FL: 17 significant digits
    assert props['dicom.SoftwareVersions'] == '1.0\\pydicom'


@pytest.mark.parametrize('spec', VARIANTS)
def test_wsidicom_reads_the_series(series_of, spec):
    series, levels, _ = series_of(spec)
    if spec['wsidicom_refuses']:
        with pytest.raises(wsidicom.errors.WsiDicomNotFoundError, match=spec['wsidicom_refuses']):
            wsidicom_open(series.folder)
        return
    wsi = wsidicom_open(series.folder)
    assert [lv.size.to_tuple() for lv in wsi.levels] == [(w, h) for h, w in LEVEL_SHAPES]
    assert {lv.tile_size.to_tuple() for lv in wsi.levels} == {spec['variant'].tile}
    for k in range(len(LEVEL_SHAPES)):
        if not spec['wsidicom_levels']:
            continue
        image = wsidicom_level(wsi, k)
        missing = missing_mask(series, k)
        assert (image[missing] == 255).all(), f'level {k}: wsidicom paints missing tiles white'
        image = np.where(missing[..., np.newaxis], 0, image).astype(spec['dtype'])
        assert_pixels(image, series.levels[k].expected, 0, f'level {k}')
    for name, (_, expected) in series.associated.items():
        assert_pixels(wsidicom_associated(wsi, name).astype(spec['dtype']), expected, 0, name)
    if spec['variant'].focal_planes > 1:
        assert wsi.levels[0].focal_planes == [0.0, 2.0]
        plane = wsidicom_level(wsi, 0, z=2.0)
        missing = missing_mask(series, 0)  # the same tiles of every plane
        assert (plane[missing] == 255).all()
        diff = np.abs(plane.astype(np.int64) - plane_pixels(levels[0], 1))[~missing]
        if spec['variant'].lossy:
            assert diff.mean() < LOSSY_MEAN and diff.max() <= LOSSY_MAX, ('focal plane 1', diff.mean(), diff.max())
        else:
            assert diff.max() == 0, 'focal plane 1 differs from the pixels written'
    if spec['variant'].optical_paths > 1:  # each path is one of the layers written, which one is up to chance
        for k in range(len(LEVEL_SHAPES)):
            assert sorted(wsi.levels[k].optical_paths) == ['1', '2']
            layers = [series.levels[k].expected, plane_pixels(levels[k], 1)]
            read = [wsidicom_level(wsi, k, path=path) for path in ('1', '2')]
            matches = sorted(n for image in read for n, layer in enumerate(layers) if np.array_equal(image, layer))
            assert matches == [0, 1], f'level {k}: the paths read layers {matches}'
