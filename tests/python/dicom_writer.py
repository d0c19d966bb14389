# DICOM VL Whole Slide Microscopy series written with pydicom for the tests (issue 15, item 3): one
# instance file per pyramid level (the caller's numpy levels, largest first; level 0 split over several
# files as a concatenation on request), plus optional label, overview ("macro") and thumbnail instances,
# all of one series in one folder. A Variant names the encoding: transfer syntax (explicit or implicit VR
# little endian native, JPEG baseline, JPEG 2000 lossless or lossy), photometric interpretation, bits,
# planar configuration, tile size, TILED_FULL or TILED_SPARSE (frames shuffled, some tiles left out),
# offset table, focal planes and optical paths. Edge tiles are padded with zeros to whole frames, as
# DICOM stores them. Everything is seed-deterministic except the UIDs, which are fresh for each series.
#
# Series.levels[k].expected is what a reader must give for level k: the pixels written, with the
# tiles a sparse level leaves out as zeros, and for lossy syntaxes the frames as imagecodecs decodes
# them (libjpeg-turbo, OpenJPEG) rather than the source.
from dataclasses import dataclass, field, replace
from pathlib import Path

import imagecodecs
import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate, encapsulate_extended, generate_frames
from pydicom.sequence import Sequence
from pydicom.uid import (JPEG2000, ExplicitVRLittleEndian, HTJ2KLossless, ImplicitVRLittleEndian, JPEG2000Lossless,
                         JPEGBaseline8Bit, generate_uid)

WSI_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.77.1.6'
SYNTAXES = {'explicit': ExplicitVRLittleEndian, 'implicit': ImplicitVRLittleEndian, 'jpeg': JPEGBaseline8Bit,
            'j2k': JPEG2000Lossless, 'j2k-lossy': JPEG2000, 'htj2k': HTJ2KLossless}
LOSSY = {'jpeg': 'ISO_10918_1', 'j2k-lossy': 'ISO_15444_1'}
# The photometric interpretations each syntax may carry (DICOM PS3.5 8.2).
PHOTOMETRICS = {'explicit': {'RGB', 'MONOCHROME2'}, 'implicit': {'RGB', 'MONOCHROME2'},
                'jpeg': {'RGB', 'YBR_FULL_422', 'MONOCHROME2'}, 'j2k': {'RGB', 'YBR_RCT', 'MONOCHROME2'},
                'j2k-lossy': {'RGB', 'YBR_ICT', 'MONOCHROME2'}, 'htj2k': {'RGB', 'MONOCHROME2'}}
# ImageType of each kind of instance, as OpenSlide 4 accepts them.
IMAGE_TYPES = {'volume': ['ORIGINAL', 'PRIMARY', 'VOLUME', 'NONE'],
               'resampled': ['DERIVED', 'PRIMARY', 'VOLUME', 'RESAMPLED'],
               'label': ['ORIGINAL', 'PRIMARY', 'LABEL', 'NONE'],
               'macro': ['ORIGINAL', 'PRIMARY', 'OVERVIEW', 'NONE'],
               'thumbnail': ['ORIGINAL', 'PRIMARY', 'THUMBNAIL', 'RESAMPLED']}
JPEG_QUALITY = 90
J2K_LOSSY_PSNR = 45  # imagecodecs' jpeg2k_encode level: the target PSNR of a lossy codestream
FOCAL_PLANE_DISTANCE_MM = 0.002


@dataclass(frozen=True)
class Variant:
    syntax: str = 'explicit'        # a key of SYNTAXES
    photometric: str = 'RGB'        # in PHOTOMETRICS[syntax]
    planar: int = 0                 # PlanarConfiguration of native RGB: 0 interleaved, 1 a plane per sample
    tile: tuple = (64, 64)          # (Columns, Rows): the frame's width and height
    sparse: bool = False            # TILED_SPARSE: per-frame positions, frames shuffled, some tiles left out
    offset_table: str = 'basic'     # encapsulated syntaxes: 'basic', 'empty' or 'extended'
    concatenation: int = 1          # files that level 0 is split over
    focal_planes: int = 1           # > 1: each level holds these planes (plane_pixels)
    optical_paths: int = 1          # > 1: and these optical paths, each of focal_planes planes
    seed: int = 0                   # frame order and left-out tiles of sparse levels

    def __post_init__(self):
        assert self.syntax in SYNTAXES, self.syntax
        assert self.photometric in PHOTOMETRICS[self.syntax], (self.syntax, self.photometric)
        assert self.offset_table in ('basic', 'empty', 'extended'), self.offset_table
        assert self.planar == 0 or self.syntax in ('explicit', 'implicit'), 'planar data only in native syntaxes'

    @property
    def encapsulated(self) -> bool:
        return self.syntax not in ('explicit', 'implicit')

    @property
    def lossy(self) -> bool:
        return self.syntax in LOSSY


@dataclass
class Instance:
    path: Path
    frames: list                    # ((column, row) tile index, layer) of each stored frame, in order


@dataclass
class Level:
    files: list                     # Instance of each file the level is stored in (several: a concatenation)
    expected: np.ndarray            # (h, w, samples) of layer 0: what a reader must give
    missing: list = field(default_factory=list)  # (column, row) tile indices a sparse level leaves out


@dataclass
class Series:
    folder: Path
    variant: Variant
    series_instance_uid: str
    levels: list                    # Level, largest first
    associated: dict                # name -> (Instance, expected (h, w, samples))

    def paths(self):
        return [i.path for lv in self.levels for i in lv.files] + [i.path for i, _ in self.associated.values()]


# ---- frames --------------------------------------------------------------------------------------

def tile_grid(height, width, tile):
    columns, rows = tile
    return -(-width // columns), -(-height // rows)


def tile_of(image, column, row, tile):
    """The (Rows, Columns, samples) frame at tile (column, row), zero-padded at the image's edges."""
    columns, rows = tile
    part = image[row * rows:(row + 1) * rows, column * columns:(column + 1) * columns]
    frame = np.zeros((rows, columns, image.shape[2]), image.dtype)
    frame[:part.shape[0], :part.shape[1]] = part
    return frame


def encode_frame(frame, variant):
    """The stored bytes of one (Rows, Columns, samples) frame."""
    if not variant.encapsulated:
        if variant.planar:
            frame = np.moveaxis(frame, -1, 0)
        return np.ascontiguousarray(frame).astype(frame.dtype.newbyteorder('<')).tobytes()
    grey = frame.shape[2] == 1
    pixels = frame[..., 0] if grey else frame
    if variant.syntax == 'jpeg':
        if grey:
            return bytes(imagecodecs.jpeg8_encode(pixels, level=JPEG_QUALITY))
        if variant.photometric == 'RGB':  # no colour transform: libjpeg writes an Adobe marker saying so
            return bytes(imagecodecs.jpeg8_encode(pixels, level=JPEG_QUALITY, colorspace='RGB', outcolorspace='RGB'))
        return bytes(imagecodecs.jpeg8_encode(pixels, level=JPEG_QUALITY, colorspace='RGB', outcolorspace='YCbCr',
                                              subsampling='422'))
    if variant.syntax == 'htj2k':  # High-Throughput JPEG 2000, reversible (imagecodecs' OpenJPH)
        return bytes(imagecodecs.htj2k_encode(pixels))
    # JPEG 2000 codestreams (J2K, not JP2); the multiple component transform for YBR_RCT / YBR_ICT only.
    mct = variant.photometric in ('YBR_RCT', 'YBR_ICT')
    reversible = variant.syntax == 'j2k'
    return bytes(imagecodecs.jpeg2k_encode(pixels, level=None if reversible else J2K_LOSSY_PSNR, codecformat='J2K',
                                           reversible=reversible, mct=mct, numthreads=1))


def decode_frame(data, variant, shape, dtype):
    """What a reader makes of one stored frame, (Rows, Columns, samples)."""
    if variant.syntax == 'jpeg':
        out = imagecodecs.jpeg8_decode(data)
    elif variant.syntax in ('j2k', 'j2k-lossy'):
        out = imagecodecs.jpeg2k_decode(data)
    elif variant.syntax == 'htj2k':
        out = imagecodecs.htj2k_decode(data)
    else:
        raise AssertionError('native frames are the pixels written')
    return out.reshape(shape).astype(dtype)


def plane_pixels(image, layer):
    """Layer `layer` of a level (optical path layer // focal_planes, focal plane layer % focal_planes):
    layer 0 the level's pixels, layer p > 0 half of them lifted by 37 p (mod 128) in the top byte's units:
    distinct from layer 0, and as smooth (nothing wraps, so lossy frames stay as close to it as layer 0's
    to the level)."""
    if layer == 0:
        return image
    unit = (int(np.iinfo(image.dtype).max) + 1) // 256
    return (image // 2 + (37 * layer % 128) * unit).astype(image.dtype)


def level_frames(image, variant, seed):
    """(index, layer, bytes) of each frame to store, in storage order, and the expected pixels of layer 0
    (the first focal plane of the first optical path) and the left-out tiles. Sparse levels leave out
    about one tile in five (never the first) and store the rest in a shuffled order; TILED_FULL stores
    every tile row by row, then plane by plane, then path by path."""
    height, width = image.shape[:2]
    across, down = tile_grid(height, width, variant.tile)
    tiles = [(c, r) for r in range(down) for c in range(across)]
    missing = []
    if variant.sparse and len(tiles) > 1:
        rng = np.random.default_rng(seed)
        missing = [t for t in tiles[1:] if rng.random() < 0.2] or [tiles[-1]]
    kept = [t for t in tiles if t not in missing]
    order = [(t, p) for p in range(variant.focal_planes * variant.optical_paths) for t in kept]
    if variant.sparse:
        order = [order[i] for i in np.random.default_rng(seed + 1).permutation(len(order))]
    expected = np.zeros_like(image)
    frames = []
    for (column, row), layer in order:
        frame = tile_of(plane_pixels(image, layer), column, row, variant.tile)
        data = encode_frame(frame, variant)
        if layer == 0:
            shown = decode_frame(data, variant, frame.shape, frame.dtype) if variant.lossy else frame
            rows, columns = variant.tile[1], variant.tile[0]
            y, x = row * rows, column * columns
            h, w = min(rows, height - y), min(columns, width - x)
            expected[y:y + h, x:x + w] = shown[:h, :w]
        frames.append(((column, row), layer, data))
    return frames, expected, missing


# ---- datasets ------------------------------------------------------------------------------------

def item(**attributes):
    ds = Dataset()
    for keyword, value in attributes.items():
        setattr(ds, keyword, value)
    return ds


def code(value, scheme, meaning):
    return item(CodeValue=value, CodingSchemeDesignator=scheme, CodeMeaning=meaning)


def series_attributes(ds, uids, optical_paths):
    """Patient, study, series, equipment and specimen: the same in every instance of the series."""
    ds.PatientName = 'Tilestream^Test'
    ds.PatientID = 'TS-0001'
    ds.PatientBirthDate = '19700101'
    ds.PatientSex = 'O'
    ds.StudyInstanceUID = uids['study']
    ds.StudyID = 'S1'
    ds.StudyDate = '20261204'
    ds.StudyTime = '120000'
    ds.AccessionNumber = 'A1'
    ds.ReferringPhysicianName = ''
    ds.SeriesInstanceUID = uids['series']
    ds.SeriesNumber = 1
    ds.FrameOfReferenceUID = uids['frame_of_reference']
    ds.PositionReferenceIndicator = 'SLIDE_CORNER'
    ds.Modality = 'SM'
    ds.Manufacturer = 'tilestream tests'
    ds.ManufacturerModelName = 'dicom_writer.py'
    ds.DeviceSerialNumber = '42'
    ds.SoftwareVersions = ['1.0', 'pydicom']
    ds.ContainerIdentifier = 'SLIDE-1'
    ds.IssuerOfTheContainerIdentifierSequence = Sequence()
    ds.ContainerTypeCodeSequence = Sequence([code('433466003', 'SCT', 'Microscope slide')])
    ds.SpecimenDescriptionSequence = Sequence([item(SpecimenIdentifier='SPECIMEN-1', SpecimenUID=uids['specimen'],
                                                    IssuerOfTheSpecimenIdentifierSequence=Sequence(),
                                                    SpecimenPreparationSequence=Sequence())])
    ds.AcquisitionContextSequence = Sequence()
    ds.OpticalPathSequence = Sequence([item(
        OpticalPathIdentifier=str(path + 1), OpticalPathDescription='brightfield',
        IlluminationTypeCodeSequence=Sequence([code('111744', 'DCM', 'Brightfield illumination')]),
        IlluminationColorCodeSequence=Sequence([code('414298005', 'SCT', 'Full Spectrum')]),
        ObjectiveLensPower=20, ObjectiveLensNumericalAperture=0.75) for path in range(optical_paths)])
    ds.NumberOfOpticalPaths = optical_paths


def image_attributes(ds, shape, dtype, variant, kind, frame_count):
    """The Image Pixel and multi-frame attributes of one instance."""
    height, width, samples = shape
    bits = np.dtype(dtype).itemsize * 8
    ds.ImageType = IMAGE_TYPES[kind]
    ds.Columns, ds.Rows = variant.tile
    ds.TotalPixelMatrixColumns, ds.TotalPixelMatrixRows = width, height
    ds.SamplesPerPixel = samples
    ds.PhotometricInterpretation = variant.photometric if samples == 3 else 'MONOCHROME2'
    if samples > 1:
        ds.PlanarConfiguration = variant.planar
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = bits, bits, bits - 1, 0
    ds.NumberOfFrames = frame_count
    ds.BurnedInAnnotation = 'YES' if kind == 'label' else 'NO'
    ds.SpecimenLabelInImage = 'YES' if kind in ('label', 'macro') else 'NO'
    ds.FocusMethod = 'AUTO'
    ds.ExtendedDepthOfField = 'NO'
    ds.VolumetricProperties = 'VOLUME'
    ds.LossyImageCompression = '01' if variant.lossy else '00'
    if variant.lossy:
        ds.LossyImageCompressionMethod = LOSSY[variant.syntax]
    ds.ImageOrientationSlide = [0, -1, 0, -1, 0, 0]


def geometry_attributes(ds, shape, spacing, variant, kind):
    """Pixel spacing, imaged volume and origin; focal planes; the shared functional groups."""
    height, width = shape[:2]
    ds.ImagedVolumeWidth = round(width * spacing[1], 6)
    ds.ImagedVolumeHeight = round(height * spacing[0], 6)
    ds.ImagedVolumeDepth = 0.001
    ds.TotalPixelMatrixOriginSequence = Sequence([item(XOffsetInSlideCoordinateSystem=20.5,
                                                       YOffsetInSlideCoordinateSystem=40.25)])
    ds.TotalPixelMatrixFocalPlanes = variant.focal_planes
    ds.NumberOfFocalPlanes = variant.focal_planes
    if variant.focal_planes > 1:
        ds.DistanceBetweenFocalPlanes = FOCAL_PLANE_DISTANCE_MM
    shared = item(
        PixelMeasuresSequence=Sequence([item(PixelSpacing=[spacing[0], spacing[1]], SliceThickness=0.001,
                                             SpacingBetweenSlices=0.002)]),
        WholeSlideMicroscopyImageFrameTypeSequence=Sequence([item(FrameType=IMAGE_TYPES[kind])]))
    if variant.optical_paths == 1:  # else each frame names its path (TILED_SPARSE) or the order does (TILED_FULL)
        shared.OpticalPathIdentificationSequence = Sequence([item(OpticalPathIdentifier='1')])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])


def per_frame_groups(frames, variant, spacing):
    """TILED_SPARSE: each frame's position, 1-based in the total pixel matrix, and in the slide; its
    optical path where there are several."""
    groups = []
    columns, rows = variant.tile
    for (column, row), layer, _ in frames:
        path, plane = divmod(layer, variant.focal_planes)
        x, y = column * columns, row * rows
        position = item(ColumnPositionInTotalImagePixelMatrix=x + 1, RowPositionInTotalImagePixelMatrix=y + 1,
                        XOffsetInSlideCoordinateSystem=round(20.5 - y * spacing[0], 6),
                        YOffsetInSlideCoordinateSystem=round(40.25 - x * spacing[1], 6),
                        ZOffsetInSlideCoordinateSystem=plane * FOCAL_PLANE_DISTANCE_MM * 1000)  # in µm, X and Y in mm
        group = item(PlanePositionSlideSequence=Sequence([position]))
        if variant.optical_paths > 1:
            group.OpticalPathIdentificationSequence = Sequence([item(OpticalPathIdentifier=str(path + 1))])
        groups.append(group)
    return Sequence(groups)


def pixel_data(ds, frames, variant, bits):
    datas = [data for _, _, data in frames]
    if not variant.encapsulated:
        joined = b''.join(datas)
        ds.PixelData = joined + b'\0' * (len(joined) % 2)
        ds['PixelData'].VR = 'OW' if bits == 16 else 'OB'
        return
    if variant.offset_table == 'extended':
        ds.PixelData, ds.ExtendedOffsetTable, ds.ExtendedOffsetTableLengths = encapsulate_extended(datas)
    else:
        ds.PixelData = encapsulate(datas, has_bot=variant.offset_table == 'basic')
    ds['PixelData'].VR = 'OB'
    ds['PixelData'].is_undefined_length = True


def write_instance(path, image, kind, frames, variant, uids, spacing, concatenation=None):
    """One instance file. `concatenation`: (part number from 1, parts, frame offset, source SOP UID)."""
    sop_uid = generate_uid()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = WSI_SOP_CLASS
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = SYNTAXES[variant.syntax]
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = WSI_SOP_CLASS
    ds.SOPInstanceUID = sop_uid
    ds.InstanceNumber = uids['instance_number']
    ds.ContentDate, ds.ContentTime, ds.AcquisitionDateTime = '20261204', '120000', '20261204120000'
    series_attributes(ds, uids, variant.optical_paths)
    image_attributes(ds, image.shape, image.dtype, variant, kind, len(frames))
    geometry_attributes(ds, image.shape, spacing, variant, kind)
    ds.DimensionOrganizationSequence = Sequence([item(DimensionOrganizationUID=uids['dimension_organization'])])
    ds.DimensionOrganizationType = 'TILED_SPARSE' if variant.sparse else 'TILED_FULL'
    if variant.sparse:
        ds.PerFrameFunctionalGroupsSequence = per_frame_groups(frames, variant, spacing)
    if concatenation is not None:
        part, parts, offset, source_uid = concatenation
        ds.ConcatenationUID = uids['concatenation']
        ds.SOPInstanceUIDOfConcatenationSource = source_uid
        ds.InConcatenationNumber = part
        ds.InConcatenationTotalNumber = parts
        ds.ConcatenationFrameOffsetNumber = offset
    pixel_data(ds, frames, variant, image.dtype.itemsize * 8)
    if variant.lossy:  # the frames' decoded bytes over their stored bytes
        raw = len(frames) * variant.tile[0] * variant.tile[1] * image.shape[2] * image.dtype.itemsize
        ds.LossyImageCompressionRatio = round(raw / sum(len(data) for _, _, data in frames), 2)
    ds.save_as(path, enforce_file_format=True)
    return Instance(Path(path), [(index, layer) for index, layer, _ in frames])


def split(frames, parts):
    """`frames` cut into `parts` runs of consecutive frames, the first ones one longer."""
    size, extra = divmod(len(frames), parts)
    out, start = [], 0
    for k in range(parts):
        end = start + size + (k < extra)
        out.append((start, frames[start:end]))
        start = end
    return out


def write_series(folder, levels, variant=Variant(), associated=None, pixel_spacing=(0.00025, 0.0005),
                 prefix=''):
    """Writes the series into `folder` (made if absent): levels[k] an (h, w, samples) uint8 or uint16
    array, largest first; `associated` maps 'label', 'macro', 'thumbnail' to arrays stored as one frame
    each (their Variant's syntax and photometric, not tiled nor sparse). `pixel_spacing`: level 0's
    (row, column) spacing in mm; level k's is that times its downsample rounded to a power of 2, as
    wsidicom wants a pyramid's levels. Files are named PREFIX + level-K.dcm
    (level-K-part-P.dcm in a concatenation) and PREFIX + NAME.dcm."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    uids = {name: generate_uid() for name in ('study', 'series', 'frame_of_reference', 'specimen',
                                              'dimension_organization', 'concatenation')}
    base_h, base_w = levels[0].shape[:2]
    out_levels = []
    for k, image in enumerate(levels):
        assert image.ndim == 3 and image.dtype in (np.uint8, np.uint16), (image.shape, image.dtype)
        kind = 'volume' if k == 0 else 'resampled'
        factor = 2.0 ** round(np.log2(base_w / image.shape[1]))  # a 2x pyramid's level: sizes rounded
        spacing = (pixel_spacing[0] * factor, pixel_spacing[1] * factor)
        frames, expected, missing = level_frames(image, variant, variant.seed + 10 * k)
        uids['instance_number'] = k + 1
        parts = variant.concatenation if k == 0 else 1
        if parts == 1:
            files = [write_instance(folder / f'{prefix}level-{k}.dcm', image, kind, frames, variant, uids, spacing)]
        else:
            source_uid = generate_uid()
            files = [write_instance(folder / f'{prefix}level-{k}-part-{p + 1}.dcm', image, kind, run, variant, uids,
                                    spacing, (p + 1, parts, offset, source_uid))
                     for p, (offset, run) in enumerate(split(frames, parts))]
        out_levels.append(Level(files, expected, missing))
    out_associated = {}
    for n, (name, image) in enumerate((associated or {}).items()):
        one = replace(variant, tile=(image.shape[1], image.shape[0]), sparse=False, concatenation=1, focal_planes=1,
                      optical_paths=1)
        frames, expected, _ = level_frames(image, one, 0)
        uids['instance_number'] = len(levels) + n + 1
        instance = write_instance(folder / f'{prefix}{name}.dcm', image, name, frames, one, uids, pixel_spacing)
        out_associated[name] = (instance, expected)
    return Series(folder, variant, uids['series'], out_levels, out_associated)


# ---- damage, for the malformed tests -------------------------------------------------------------

ENCAPSULATED_PIXEL_DATA = b'\xe0\x7f\x10\x00OB\x00\x00\xff\xff\xff\xff'  # (7FE0,0010) OB, undefined length
ITEM = b'\xfe\xff\x00\xe0'


def basic_offset_table_at(path):
    """(file offset of the Basic Offset Table's first entry, its entry count) in an encapsulated file."""
    data = Path(path).read_bytes()
    start = data.rindex(ENCAPSULATED_PIXEL_DATA) + len(ENCAPSULATED_PIXEL_DATA)
    assert data[start:start + 4] == ITEM, 'no Basic Offset Table item after PixelData'
    length = int.from_bytes(data[start + 4:start + 8], 'little')
    return start + 8, length // 4


def set_frame_offset(path, frame, offset):
    """Rewrites the offset of `frame` (from 0) in the file's Basic Offset Table, in place, or in its
    Extended Offset Table where it has one."""
    ds = pydicom.dcmread(path)
    if 'ExtendedOffsetTable' in ds:
        offsets = np.frombuffer(ds.ExtendedOffsetTable, '<u8').copy()
        offsets[frame] = offset
        ds.ExtendedOffsetTable = offsets.tobytes()
        ds.save_as(path, enforce_file_format=True)
        return
    at, count = basic_offset_table_at(path)
    assert frame < count, f'{path}: the Basic Offset Table has {count} entries'
    with open(path, 'r+b') as f:
        f.seek(at + 4 * frame)
        f.write(int(offset).to_bytes(4, 'little'))


def truncate(path, keep):
    """Cuts the file to its first `keep` bytes."""
    with open(path, 'r+b') as f:
        f.truncate(keep)


def drop_last_frame(path, variant):
    """Rewrites the file with its last frame's bytes gone (one fragment fewer, or a native PixelData
    one frame short) while NumberOfFrames still counts it."""
    ds = pydicom.dcmread(path)
    count = int(ds.NumberOfFrames)
    if variant.encapsulated:
        extended = None
        if 'ExtendedOffsetTable' in ds:
            extended = (ds.ExtendedOffsetTable, ds.ExtendedOffsetTableLengths)
        frames = list(generate_frames(ds.PixelData, number_of_frames=count, extended_offsets=extended))[:-1]
        if extended is not None:
            ds.PixelData, ds.ExtendedOffsetTable, ds.ExtendedOffsetTableLengths = encapsulate_extended(frames)
        else:
            ds.PixelData = encapsulate(frames, has_bot=variant.offset_table == 'basic')
        ds['PixelData'].is_undefined_length = True
    else:
        frame_bytes = len(ds.PixelData) // count
        ds.PixelData = ds.PixelData[:frame_bytes * (count - 1)]
    ds.save_as(path, enforce_file_format=True)
