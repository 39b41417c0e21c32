"""Dataset readers on tiny data in the real formats; corrupt data named in errors; splits."""

import gzip
import json
import pickle

import numpy as np
import pytest

from negpen import datasets, synthetic
from negpen.datasets import DataError
from negpen.splits import Split


@pytest.mark.parametrize("gz", [True, False])
def test_idx_files_load(tmp_path, gz):
    synthetic.write_idx(tmp_path, n_train=50, n_test=20, gz=gz)
    (x_train, y_train), (x_test, y_test) = datasets.load("mnist", "files", tmp_path)
    assert x_train.shape == (50, 28, 28, 1) and x_train.dtype == np.uint8
    assert x_test.shape == (20, 28, 28, 1) and y_test.dtype == np.int64
    expected_x, expected_y = synthetic.images(50, (28, 28, 1), seed=0)
    np.testing.assert_array_equal(x_train, expected_x)
    np.testing.assert_array_equal(y_train, expected_y)


def _rewrite(path, mutate):
    raw = bytearray(gzip.decompress(path.read_bytes()))
    path.write_bytes(gzip.compress(bytes(mutate(raw))))


@pytest.mark.parametrize("name, mutate, message", [
    ("train-images-idx3-ubyte.gz", lambda raw: b"\x00\x00\x08\x01" + raw[4:], "bad IDX magic"),
    ("train-images-idx3-ubyte.gz", lambda raw: raw[:-10], "does not match header"),
    ("train-labels-idx1-ubyte.gz", lambda raw: raw[:8] + bytes([12]) + raw[9:], "label 12 out of range"),
    ("t10k-labels-idx1-ubyte.gz", lambda raw: raw[:4] + (19).to_bytes(4, "big") + raw[8:27], "19 labels for 20 images"),
])
def test_corrupt_idx_names_file_and_problem(tmp_path, name, mutate, message):
    synthetic.write_idx(tmp_path, n_train=50, n_test=20)
    _rewrite(tmp_path / name, mutate)
    with pytest.raises(DataError, match=message) as err:
        datasets.load("mnist", "files", tmp_path)
    assert name in str(err.value)


def test_truncated_gzip_and_missing_file(tmp_path):
    synthetic.write_idx(tmp_path, n_train=50, n_test=20)
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz: cannot read"):
        datasets.load("mnist", "files", tmp_path)
    path.unlink()
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.*file not found"):
        datasets.load("fashion_mnist", "files", tmp_path)


def test_cifar_python_directory_and_archive(cifar_python, tmp_path):
    (x_train, y_train), (x_test, y_test) = datasets.load("cifar10", "files", cifar_python)
    assert x_train.shape == (50000, 32, 32, 3) and x_test.shape == (10000, 32, 32, 3)
    expected, _ = synthetic.images(10000, (32, 32, 3), seed=0)
    np.testing.assert_array_equal(x_train[:10000], expected)  # channel order restored
    archive = synthetic.write_cifar_python(tmp_path, archive=True)
    (xa, ya), _ = datasets.load("cifar10", "files", archive)
    np.testing.assert_array_equal(ya, y_train)


def test_cifar_batch_of_wrong_size_is_refused(tmp_path):
    folder = synthetic.write_cifar_python(tmp_path) / "cifar-10-batches-py"
    batch = pickle.loads((folder / "data_batch_3").read_bytes())
    batch[b"data"], batch[b"labels"] = batch[b"data"][:9999], batch[b"labels"][:9999]
    (folder / "data_batch_3").write_bytes(pickle.dumps(batch))
    with pytest.raises(DataError, match="data_batch_3: 9999 images, a CIFAR-10 batch has 10000"):
        datasets.load("cifar10", "files", tmp_path)
    (folder / "test_batch").write_bytes(b"not a pickle")
    (folder / "data_batch_3").unlink()
    with pytest.raises(DataError, match="data_batch_3"):
        datasets.load("cifar10", "files", tmp_path)


@pytest.mark.parametrize("suffix, archive", [(".png", False), (".jpg", False), (".png", True)])
def test_image_folder(tmp_path, suffix, archive):
    names = list(datasets.DATASETS["cifar10"].class_names)
    path = synthetic.write_image_folder(tmp_path / "imgs", n_train=40, n_test=20, class_names=names,
                                        suffix=suffix, archive=archive)
    (x_train, y_train), (x_test, y_test) = datasets.load("cifar10", "image_folder", path)
    assert x_train.shape == (40, 32, 32, 3) and x_test.shape == (20, 32, 32, 3)
    assert sorted(np.unique(y_train)) == list(range(10))
    _, expected_y = synthetic.images(40, (32, 32, 3), seed=0)
    assert np.bincount(y_train).tolist() == np.bincount(expected_y).tolist()
    if suffix == ".png":  # lossless: pixels survive
        first = x_train[y_train == 0][0]
        candidates = synthetic.images(40, (32, 32, 3), seed=0)[0][expected_y == 0]
        assert any(np.array_equal(first, c) for c in candidates)


def test_image_folder_grayscale_and_custom_dataset(tmp_path):
    synthetic.write_image_folder(tmp_path, shape=(28, 28, 1), n_train=30, n_test=10)
    (x_train, y_train), _ = datasets.load("mnist", "image_folder", tmp_path)
    assert x_train.shape == (30, 28, 28, 1)
    (x_custom, _), _ = datasets.load("my_digits", "image_folder", tmp_path)
    assert x_custom.shape == (30, 28, 28, 1)


def test_image_folder_errors(tmp_path):
    synthetic.write_image_folder(tmp_path, shape=(28, 28, 1), n_train=30, n_test=10)
    (tmp_path / "test" / "3").rename(tmp_path / "test" / "three")
    with pytest.raises(DataError, match="class folders differ"):
        datasets.load("my_digits", "image_folder", tmp_path)
    (tmp_path / "test" / "three").rename(tmp_path / "test" / "3")
    (tmp_path / "train" / "4" / "00004.png").write_bytes(b"garbage")
    with pytest.raises(DataError, match=r"00004.png: unreadable image"):
        datasets.load("mnist", "image_folder", tmp_path)
    (tmp_path / "train" / "4" / "00004.png").unlink()
    for part in ("train", "test"):
        (tmp_path / part / "3").rename(tmp_path / part / "three")
    with pytest.raises(DataError, match="'three'.* not the classes of mnist"):
        datasets.load("mnist", "image_folder", tmp_path)


def test_unknown_dataset_source_and_missing_dir(tmp_path):
    with pytest.raises(DataError, match="unknown dataset 'minst'"):
        datasets.load("minst", "files", tmp_path)
    with pytest.raises(DataError, match="unknown data source 'ftp'"):
        datasets.load("mnist", "ftp", tmp_path)
    with pytest.raises(DataError, match="nowhere: data directory not found"):
        datasets.load("mnist", "files", tmp_path / "nowhere")


def test_tfds_source_with_mock_data():
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=12):
        (x_train, y_train), (x_test, y_test) = datasets.load("mnist", "tfds")
    assert x_train.shape == (12, 28, 28, 1) and x_train.dtype == np.uint8
    assert y_test.dtype == np.int64 and len(x_test) == 12


def test_prepared_cache_round_trip_and_corruption(mnist_idx, tmp_path):
    out = tmp_path / "mnist.npz"
    record = datasets.prepare("mnist", "files", mnist_idx, out)
    assert record["train"] == 600 and record["classes"] == list(range(10))
    assert json.loads(out.with_suffix(".json").read_text())["sha256"] == record["sha256"]
    (x_train, y_train), _ = datasets.load_prepared(out)
    np.testing.assert_array_equal(y_train, datasets.load("mnist", "files", mnist_idx)[0][1])
    raw = bytearray(out.read_bytes())
    raw[-5] ^= 0xFF
    out.write_bytes(bytes(raw))
    with pytest.raises(DataError, match="mnist.npz: prepared data is corrupt"):
        datasets.load_prepared(out)
    out.write_bytes(bytes(raw[:-100]))
    with pytest.raises(DataError, match="corrupt"):
        datasets.load_prepared(out)


def test_split_validation():
    with pytest.raises(ValueError, match="positives and known_negatives overlap"):
        Split([0, 1], [1, 2])
    with pytest.raises(ValueError, match="at least one positive"):
        Split([], [1])
    with pytest.raises(ValueError, match="class 10 is outside"):
        Split([0], [10], num_classes=10)
    with pytest.raises(ValueError, match="not an integer"):
        Split([0.5], [])


def test_split_apply_keeps_unknown_negatives_out_of_training():
    split = Split([0, 1], [2], [3], num_classes=5)
    y = np.array([0, 1, 2, 3, 4, 0, 3])
    x = np.arange(len(y))
    (xt, yt), (xs, ys) = split.apply((x, y), (x, y))
    assert set(yt) == {0, 1, 2} and set(ys) == {0, 1, 2, 3}
