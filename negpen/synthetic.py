"""Small learnable datasets written in the real on-disk formats (for tests and smoke runs).

Class ``c`` is noise plus a bright square at a position determined by ``c``, so a small
CNN separates the classes within an epoch.
"""

from __future__ import annotations

import gzip
import pickle
import tarfile
from pathlib import Path

import numpy as np

from negpen.datasets import CIFAR_BATCHES, IDX_FILES


def images(n: int, shape, num_classes: int = 10, seed: int = 0):
    """``n`` uint8 images of ``shape`` (H, W, C) with balanced labels ``0..num_classes-1``."""
    rng = np.random.default_rng(seed)
    h, w, c = shape
    y = np.arange(n) % num_classes
    rng.shuffle(y)
    x = rng.integers(0, 60, size=(n, h, w, c), dtype=np.uint8)
    block = max(2, h // 5)
    for cls in range(num_classes):
        row, col = divmod(cls, 4)
        r0, c0 = 1 + row * (block + 1), 1 + col * (block + 1)
        x[y == cls, r0:r0 + block, c0:c0 + block, :] = 220
    return x, y.astype(np.int64)


def _idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_idx(directory, n_train=600, n_test=200, gz=True, seed=0) -> Path:
    """MNIST-style IDX files (the four standard names, ``.gz`` when ``gz``)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for part, n, offset in (("train", n_train, 0), ("test", n_test, 1)):
        x, y = images(n, (28, 28, 1), seed=seed + offset)
        for stem, array in zip(IDX_FILES[part], (x[..., 0], y)):
            raw = _idx_bytes(array)
            if gz:
                (directory / f"{stem}.gz").write_bytes(gzip.compress(raw, mtime=0))
            else:
                (directory / stem).write_bytes(raw)
    return directory


def write_cifar_python(directory, per_batch=10000, archive=False, seed=0) -> Path:
    """CIFAR-10 python batches in ``directory/cifar-10-batches-py`` (or the ``.tar.gz``).

    Real batches hold 10000 images; smaller ``per_batch`` values make files that the
    loader rejects, which is what the corrupt-data tests use.
    """
    directory = Path(directory)
    folder = directory / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(CIFAR_BATCHES["train"] + CIFAR_BATCHES["test"]):
        x, y = images(per_batch, (32, 32, 3), seed=seed + i)
        batch = {b"data": x.transpose(0, 3, 1, 2).reshape(per_batch, -1), b"labels": y.tolist(),
                 b"batch_label": name.encode()}
        (folder / name).write_bytes(pickle.dumps(batch))
    if not archive:
        return directory
    path = directory / "cifar-10-python.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        tar.add(folder, arcname="cifar-10-batches-py")
    return path


def write_image_folder(directory, shape=(32, 32, 3), n_train=300, n_test=100, class_names=None,
                       suffix=".png", archive=False, seed=0) -> Path:
    """``train/<class>/*`` and ``test/<class>/*`` images (PNG or JPEG), or a ``.tar.gz`` of them."""
    from PIL import Image

    directory = Path(directory)
    class_names = class_names or [str(i) for i in range(10)]
    for part, n, offset in (("train", n_train, 0), ("test", n_test, 1)):
        x, y = images(n, shape, num_classes=len(class_names), seed=seed + offset)
        for i, (image, label) in enumerate(zip(x, y)):
            folder = directory / part / class_names[label]
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(image[..., 0] if shape[2] == 1 else image).save(folder / f"{i:05d}{suffix}")
    if not archive:
        return directory
    path = directory.with_suffix(".tar.gz")
    with tarfile.open(path, "w:gz") as tar:
        for part in ("train", "test"):
            tar.add(directory / part, arcname=f"images/{part}")
    return path

