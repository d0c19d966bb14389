# The table of mutated real slides (tests/data/mutations.tsv, described in test_mutations.py): its rows
# and how a row's patch is applied, for the command-line tests (test_mutations.py) and the Python API's
# (tests/python_api/test_malformed.py). Nothing here imports pytest or the CLI.
import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
TABLE = REPO_ROOT / 'tests' / 'data' / 'mutations.tsv'
TESTDATA = REPO_ROOT / '..' / 'shared' / 'testdata'


@dataclass(frozen=True)
class Mutation:
    name: str
    base: str
    sha256: str
    edits: str
    command: str
    expect: str


def load_table(path: Path = TABLE) -> list[Mutation]:
    rows = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.startswith('#'):
            continue
        fields = line.split('\t')
        assert len(fields) == 6, f'{path.name}:{number}: want 6 tab-separated fields, got {len(fields)}'
        rows.append(Mutation(*fields))
    names = [row.name for row in rows]
    assert len(names) == len(set(names)), f'{path.name}: duplicate names'
    return rows


def apply_edits(data: bytearray, edits: str) -> bytearray:
    for edit in edits.split(';'):
        where, _, what = edit.strip().partition(':')
        if where == 'truncate':
            assert int(what) < len(data), f'truncate:{what} does not shorten a file of {len(data)} bytes'
            del data[int(what):]
            continue
        offset, patch = int(where), bytes.fromhex(what)
        assert offset + len(patch) <= len(data), f'edit {edit} runs past the end ({len(data)} bytes)'
        assert data[offset:offset + len(patch)] != patch, f'edit {edit} changes nothing'
        data[offset:offset + len(patch)] = patch
    return data


@functools.cache
def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_mutated(row: Mutation, folder: Path) -> Path | None:
    """The row's patched slide, written into `folder` under the row's name (with its base's suffixes);
    None where the shared base slide is absent. The base must be the slide the row was written for."""
    base = TESTDATA / row.base
    if not base.is_file():
        return None
    assert sha256_of(base) == row.sha256, f'{row.base} is not the slide the table was written for'
    path = folder / (row.name + ''.join(Path(row.base).suffixes))
    path.write_bytes(apply_edits(bytearray(base.read_bytes()), row.edits))
    return path
