"""Datasets: loading from tfds or the canonical on-disk formats, and a checksummed cache.

:func:`load` returns ``(x_train, y_train), (x_test, y_test)`` with ``x`` uint8
``(N, H, W, C)`` and ``y`` int64. Sources:

- ``tfds``: ``tensorflow_datasets.load`` (optionally with ``data_dir``);
- ``files``: MNIST / Fashion-MNIST IDX files (the four standard names, gzipped or not),
  CIFAR-10's python version (a ``cifar-10-batches-py`` directory or the
  ``cifar-10-python.tar.gz`` archive);
- ``image_folder``: ``train/<class>/*`` and ``test/<class>/*`` PNG or JPEG images, in a
  directory or a ``.tar``/``.tar.gz`` archive of one.

:func:`prepare` writes the arrays once to an ``.npz`` plus a ``.json`` record of its size
and SHA-256; :func:`load_prepared` verifies both before use.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
import os
import pickle
import tarfile
from pathlib import Path

import numpy as np

from negpen.records import write_json_atomic

SOURCES = ("tfds", "files", "image_folder")


class DataError(ValueError):
    """Bad or missing data; the message names the file and what is wrong."""


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    name: str
    shape: tuple[int, int, int]
    class_names: tuple[str, ...]
    tfds_name: str
    file_format: str  # "idx" or "cifar_python"

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


DATASETS: dict[str, DatasetInfo] = {
    "mnist": DatasetInfo("mnist", (28, 28, 1), tuple(str(d) for d in range(10)), "mnist", "idx"),
    "fashion_mnist": DatasetInfo(
        "fashion_mnist", (28, 28, 1),
        ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
         "Ankle boot"),
        "fashion_mnist", "idx"),
    "cifar10": DatasetInfo(
        "cifar10", (32, 32, 3),
        ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
        "cifar10", "cifar_python"),
}


def info(name: str) -> DatasetInfo:
    try:
        return DATASETS[name]
    except KeyError:
        raise DataError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}") from None


# --------------------------------------------------------------------------- IDX files
IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def _find(data_dir: Path, stem: str) -> Path:
    for candidate in (data_dir / stem, data_dir / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    raise DataError(f"{data_dir / stem}[.gz]: file not found")


def read_idx(path: Path, expected_ndim: int) -> np.ndarray:
    """Parse an unsigned-byte IDX file (magic ``0x0000 08 ndim``, big-endian dims, data)."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            raw = handle.read()
    except (OSError, EOFError) as err:
        raise DataError(f"{path}: cannot read ({err})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08 or raw[3] != expected_ndim:
        raise DataError(f"{path}: bad IDX magic {raw[:4].hex()} (expected 000008{expected_ndim:02x})")
    header = 4 + 4 * expected_ndim
    if len(raw) < header:
        raise DataError(f"{path}: truncated IDX header")
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(expected_ndim))
    expected = int(np.prod(dims)) + header
    if len(raw) != expected:
        raise DataError(f"{path}: size {len(raw)} bytes does not match header dims {dims} ({expected} bytes)")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def _load_idx(data_dir: Path, dataset: DatasetInfo):
    out = []
    for image_stem, label_stem in IDX_FILES.values():
        image_path, label_path = _find(data_dir, image_stem), _find(data_dir, label_stem)
        x = read_idx(image_path, 3)
        y = read_idx(label_path, 1).astype(np.int64)
        if x.shape[1:] != dataset.shape[:2]:
            raise DataError(f"{image_path}: images are {x.shape[1:]}, expected {dataset.shape[:2]}")
        if len(x) != len(y):
            raise DataError(f"{label_path}: {len(y)} labels for {len(x)} images in {image_path.name}")
        _check_labels(label_path, y, dataset.num_classes)
        out.append((x[..., None], y))
    return tuple(out)


def _check_labels(path, y, num_classes):
    if len(y) and (y.min() < 0 or y.max() >= num_classes):
        bad = int(y[(y < 0) | (y >= num_classes)][0])
        raise DataError(f"{path}: label {bad} out of range 0..{num_classes - 1}")


# --------------------------------------------------------------------------- CIFAR-10 python
CIFAR_BATCHES = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}


def _cifar_batch(raw: bytes, where: str):
    try:
        batch = pickle.loads(raw, encoding="bytes")
        data, labels = np.asarray(batch[b"data"]), np.asarray(batch[b"labels"], dtype=np.int64)
    except Exception as err:  # noqa: BLE001 - any unpickling problem is a data error
        raise DataError(f"{where}: not a CIFAR-10 python batch ({type(err).__name__}: {err})") from None
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise DataError(f"{where}: data has shape {data.shape} {data.dtype}, expected (N, 3072) uint8")
    if len(labels) != len(data):
        raise DataError(f"{where}: {len(labels)} labels for {len(data)} images")
    _check_labels(where, labels, 10)
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels


def _load_cifar_python(data_dir: Path):
    raws = {}
    if data_dir.is_file():
        try:
            with tarfile.open(data_dir) as archive:
                for member in archive.getmembers():
                    base = os.path.basename(member.name)
                    if member.isfile() and base in CIFAR_BATCHES["train"] + CIFAR_BATCHES["test"]:
                        raws[base] = (archive.extractfile(member).read(), f"{data_dir}:{member.name}")
        except (tarfile.TarError, OSError, EOFError) as err:
            raise DataError(f"{data_dir}: cannot read archive ({err})") from None
    else:
        folder = data_dir / "cifar-10-batches-py" if (data_dir / "cifar-10-batches-py").is_dir() else data_dir
        for base in CIFAR_BATCHES["train"] + CIFAR_BATCHES["test"]:
            if (folder / base).is_file():
                raws[base] = ((folder / base).read_bytes(), str(folder / base))
    out = []
    for part in ("train", "test"):
        xs, ys = [], []
        for base in CIFAR_BATCHES[part]:
            if base not in raws:
                raise DataError(f"{data_dir}: CIFAR-10 batch {base!r} not found")
            x, y = _cifar_batch(*raws[base])
            if len(x) != 10000:
                raise DataError(f"{raws[base][1]}: {len(x)} images, a CIFAR-10 batch has 10000")
            xs.append(x)
            ys.append(y)
        out.append((np.concatenate(xs), np.concatenate(ys)))
    return tuple(out)


# --------------------------------------------------------------------------- image folders
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def _decode_image(raw: bytes, where: str, channels: int | None) -> np.ndarray:
    """Decode to uint8 ``(H, W, C)``; ``channels`` forces grey (1) or RGB (3)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(raw)) as image:
            if channels is None:
                channels = 1 if image.mode in ("1", "L", "LA", "I", "I;16") else 3
            array = np.asarray(image.convert("L" if channels == 1 else "RGB"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError, ValueError) as err:
        raise DataError(f"{where}: unreadable image ({err})") from None
    return array[..., None] if array.ndim == 2 else array


def _image_entries(data_dir: Path):
    """Yield ``(part, class_folder, file_name, read_bytes, where)`` for every image."""
    if data_dir.is_file():
        try:
            archive = tarfile.open(data_dir)
        except (tarfile.TarError, OSError) as err:
            raise DataError(f"{data_dir}: cannot read archive ({err})") from None
        with archive:
            for member in archive.getmembers():
                parts = Path(member.name).parts
                if member.isfile() and len(parts) >= 3 and parts[-3] in ("train", "test"):
                    if parts[-1].lower().endswith(IMAGE_SUFFIXES):
                        yield parts[-3], parts[-2], parts[-1], archive.extractfile(member).read(), f"{data_dir}:{member.name}"
        return
    for part in ("train", "test"):
        root = data_dir / part
        if not root.is_dir():
            raise DataError(f"{root}: directory not found (image_folder needs train/<class>/ and test/<class>/)")
        for class_dir in sorted(p for p in root.iterdir() if p.is_dir()):
            for path in sorted(class_dir.iterdir()):
                if path.suffix.lower() in IMAGE_SUFFIXES:
                    yield part, class_dir.name, path.name, path.read_bytes(), str(path)


def _class_index(folders: list[str], dataset: DatasetInfo | None, data_dir: Path) -> dict[str, int]:
    if dataset is not None:
        for names in (dataset.class_names, tuple(str(i) for i in range(dataset.num_classes))):
            if set(folders) <= set(names):
                return {name: names.index(name) for name in folders}
        raise DataError(f"{data_dir}: class folders {folders} are not the classes of {dataset.name} "
                        f"({', '.join(dataset.class_names)})")
    return {name: i for i, name in enumerate(sorted(folders))}


def _load_image_folder(data_dir: Path, dataset: DatasetInfo | None):
    items = {"train": [], "test": []}
    for part, folder, name, raw, where in _image_entries(data_dir):
        items[part].append((folder, name, raw, where))
    folders = {part: sorted({f for f, *_ in entries}) for part, entries in items.items()}
    for part in ("train", "test"):
        if not items[part]:
            raise DataError(f"{data_dir}: no images under {part}/<class>/")
    if folders["train"] != folders["test"]:
        raise DataError(f"{data_dir}: class folders differ between train/ {folders['train']} and test/ {folders['test']}")
    index = _class_index(folders["train"], dataset, data_dir)
    out, shape = [], None
    for part in ("train", "test"):
        xs, ys = [], []
        for folder, _, raw, where in sorted(items[part], key=lambda item: (index[item[0]], item[1])):
            image = _decode_image(raw, where, dataset.shape[2] if dataset else None)
            shape = shape or image.shape
            if image.shape != shape or (dataset is not None and image.shape != dataset.shape):
                raise DataError(f"{where}: image shape {image.shape}, expected {dataset.shape if dataset else shape}")
            xs.append(image)
            ys.append(index[folder])
        out.append((np.stack(xs), np.asarray(ys, dtype=np.int64)))
    return tuple(out)


# --------------------------------------------------------------------------- tfds
def _load_tfds(dataset: DatasetInfo, data_dir):
    import tensorflow_datasets as tfds

    out = []
    for part in tfds.load(dataset.tfds_name, split=["train", "test"], as_supervised=True, data_dir=data_dir):
        batches = list(tfds.as_numpy(part.batch(8192)))
        out.append((np.concatenate([x for x, _ in batches]).astype(np.uint8),
                    np.concatenate([y for _, y in batches]).astype(np.int64)))
    return tuple(out)


def load(name: str, source: str = "tfds", data_dir=None):
    """Load a dataset: ``(x_train, y_train), (x_test, y_test)``.

    ``name`` must be registered in :data:`DATASETS`, except with ``source="image_folder"``
    where an unregistered name takes its classes from the sorted folder names.
    """
    if source not in SOURCES:
        raise DataError(f"unknown data source {source!r}; known: {', '.join(SOURCES)}")
    dataset = DATASETS.get(name)
    if dataset is None and source != "image_folder":
        info(name)
    if source == "tfds":
        return _load_tfds(dataset, data_dir)
    if data_dir is None:
        raise DataError(f"source {source!r} needs a data directory (data_dir)")
    data_dir = Path(data_dir)
    if not data_dir.exists():
        raise DataError(f"{data_dir}: data directory not found")
    if source == "image_folder":
        return _load_image_folder(data_dir, dataset)
    if dataset.file_format == "idx":
        return _load_idx(data_dir, dataset)
    return _load_cifar_python(data_dir)


# --------------------------------------------------------------------------- prepared cache
def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def _record_path(path: Path) -> Path:
    return path.with_suffix(".json")


def prepare(name: str, source: str, data_dir, out_path) -> dict:
    """Load a dataset once and write ``out_path`` (``.npz``) and its ``.json`` record atomically."""
    (x_train, y_train), (x_test, y_test) = load(name, source, data_dir)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f".{out_path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        np.savez(handle, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    record = {
        "dataset": name, "source": source, "data_dir": None if data_dir is None else str(data_dir),
        "size": tmp.stat().st_size, "sha256": _sha256(tmp),
        "train": len(y_train), "test": len(y_test), "shape": list(x_train.shape[1:]),
        "classes": sorted(int(c) for c in np.unique(np.r_[y_train, y_test])),
    }
    os.replace(tmp, out_path)
    write_json_atomic(_record_path(out_path), record)
    return record


def load_prepared(path):
    """Arrays written by :func:`prepare`, after checking the recorded size and SHA-256."""
    path = Path(path)
    record_path = _record_path(path)
    if not path.is_file() or not record_path.is_file():
        raise DataError(f"{path}: prepared data or its record {record_path.name} is missing")
    record = json.loads(record_path.read_text())
    size = path.stat().st_size
    if size != record["size"] or _sha256(path) != record["sha256"]:
        raise DataError(f"{path}: prepared data is corrupt (size/SHA-256 differ from {record_path.name}); "
                        "delete both files to rebuild them")
    with np.load(path) as arrays:
        return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])
