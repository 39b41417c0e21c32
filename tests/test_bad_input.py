"""Bad input is refused before any training, with a message naming the key or file."""

import gzip
import pickle

import pytest

from negpen import cli, datasets, synthetic
from workflow_helpers import load_config, snakemake, workflow_copy, write_config

GOOD = ["--dataset", "mnist", "--source", "files", "--positives", "0,1,2,3,4,5", "--known-negatives", "6,7",
        "--unknown-negatives", "8,9", "--loss", "negpen"]


def _with(*overrides):
    args = dict(zip(GOOD[::2], GOOD[1::2]))
    args.update(dict(zip(overrides[::2], overrides[1::2])))
    return [f"{key}={value}" for key, value in args.items()]  # "--positives=-1,0" is not an option


@pytest.fixture(scope="module")
def bad_data(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad")
    good = synthetic.write_idx(root / "good", n_train=60, n_test=30)
    bad_magic = synthetic.write_idx(root / "magic", n_train=60, n_test=30)
    path = bad_magic / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(b"\x00\x00\x08\x02" + gzip.decompress(path.read_bytes())[4:]))
    truncated = synthetic.write_idx(root / "truncated", n_train=60, n_test=30, gz=False)
    path = truncated / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-1])
    label = synthetic.write_idx(root / "label", n_train=60, n_test=30, gz=False)
    path = label / "train-labels-idx1-ubyte"
    path.write_bytes(path.read_bytes()[:-1] + bytes([200]))
    cifar = synthetic.write_cifar_python(root / "cifar")
    batch_path = cifar / "cifar-10-batches-py" / "data_batch_2"
    batch = pickle.loads(batch_path.read_bytes())
    batch[b"data"] = batch[b"data"][:, :3000]
    batch_path.write_bytes(pickle.dumps(batch))
    folders = synthetic.write_image_folder(root / "folders", n_train=20, n_test=10,
                                           class_names=datasets.DATASETS["cifar10"].class_names)
    (folders / "test" / "truck").rename(folders / "test" / "lorry")
    unreadable = synthetic.write_image_folder(root / "unreadable", n_train=20, n_test=10,
                                              class_names=datasets.DATASETS["cifar10"].class_names)
    (unreadable / "train" / "cat" / "broken.png").write_bytes(b"\x89PNG not really")
    cache = root / "cache.npz"
    datasets.prepare("mnist", "files", good, cache)
    cache.write_bytes(cache.read_bytes()[:-64])
    bad_yaml = root / "bad.yaml"
    bad_yaml.write_text("dataset: mnist\npositives: [0, 1\n")
    typo_yaml = root / "typo.yaml"
    typo_yaml.write_text("dataset: mnist\npositives: [0, 1]\nepoch: 3\n")
    return {"good": good, "magic": bad_magic, "truncated": truncated, "label": label, "cifar": cifar,
            "folders": folders, "unreadable": unreadable, "cache": cache, "bad_yaml": bad_yaml,
            "typo_yaml": typo_yaml}


CASES = [
    # (name, args builder, message)
    ("unknown dataset", lambda d: _with("--dataset", "minst", "--data-dir", str(d["good"])), "dataset: unknown dataset 'minst'"),
    ("unknown loss", lambda d: _with("--loss", "negpenalty", "--data-dir", str(d["good"])), "loss: unknown loss 'negpenalty'"),
    ("unknown model", lambda d: _with("--model", "resnet9000", "--data-dir", str(d["good"])), "model: unknown model 'resnet9000'"),
    ("unknown source", lambda d: _with("--source", "ftp", "--data-dir", str(d["good"])), "argument --source: invalid choice: 'ftp'"),
    ("P/Nk overlap", lambda d: _with("--known-negatives", "5,6", "--data-dir", str(d["good"])), "positives and known_negatives overlap"),
    ("Nk/Nu overlap", lambda d: _with("--unknown-negatives", "7,8", "--data-dir", str(d["good"])), "known_negatives and unknown_negatives overlap"),
    ("class out of range", lambda d: _with("--unknown-negatives", "8,10", "--data-dir", str(d["good"])), "class 10 is outside the dataset's classes 0..9"),
    ("negative class", lambda d: _with("--positives", "-1,0", "--data-dir", str(d["good"])), "class -1 is negative"),
    ("empty positives", lambda d: _with("--positives", "", "--data-dir", str(d["good"])), "positives: at least one positive class"),
    ("penalty without Nk", lambda d: _with("--known-negatives", "", "--data-dir", str(d["good"])), "known_negatives: loss 'negpen' needs at least one known negative"),
    ("background without Nk", lambda d: _with("--loss", "background", "--known-negatives", "", "--data-dir", str(d["good"])), "known_negatives: loss 'background' needs"),
    ("num_outputs too small", lambda d: _with("--num-outputs", "9", "--data-dir", str(d["good"])), "num_outputs: 9 is too small"),
    ("no room for background", lambda d: _with("--loss", "background", "--num-outputs", "10", "--data-dir", str(d["good"])), "num_outputs: 10 is too small"),
    ("background on a class", lambda d: _with("--loss", "background", "--loss-param", "background_class=3", "--data-dir", str(d["good"])), "background_class 3 must not be a dataset class"),
    ("unknown loss param", lambda d: _with("--loss-param", "beta=2", "--data-dir", str(d["good"])), "loss_params: loss 'negpen' has no parameter 'beta'"),
    ("non-integer seed", lambda d: _with("--seed", "1.5", "--data-dir", str(d["good"])), "argument --seed: invalid int value: '1.5'"),
    ("negative seed", lambda d: _with("--seed", "-3", "--data-dir", str(d["good"])), "seed: -3 must be at least 0"),
    ("zero epochs", lambda d: _with("--epochs", "0", "--data-dir", str(d["good"])), "epochs: 0 must be at least 1"),
    ("zero batch size", lambda d: _with("--batch-size", "0", "--data-dir", str(d["good"])), "batch_size: 0 must be at least 1"),
    ("negative batch size", lambda d: _with("--batch-size", "-64", "--data-dir", str(d["good"])), "batch_size: -64 must be at least 1"),
    ("missing data dir", lambda d: _with("--data-dir", "/no/such/dir"), "data_dir: /no/such/dir: not found"),
    ("files without data dir", lambda d: _with(), "data_dir: source 'files' needs a data directory"),
    ("bad IDX magic", lambda d: _with("--data-dir", str(d["magic"])), "train-images-idx3-ubyte.gz: bad IDX magic"),
    ("truncated IDX", lambda d: _with("--data-dir", str(d["truncated"])), "t10k-images-idx3-ubyte: size"),
    ("label out of range", lambda d: _with("--data-dir", str(d["label"])), "train-labels-idx1-ubyte: label 200 out of range"),
    ("CIFAR batch wrong size", lambda d: _with("--dataset", "cifar10", "--data-dir", str(d["cifar"])), "data_batch_2: data has shape (10000, 3000)"),
    ("image folders differ", lambda d: _with("--dataset", "cifar10", "--source", "image_folder", "--data-dir", str(d["folders"])), "class folders differ"),
    ("unreadable image", lambda d: _with("--dataset", "cifar10", "--source", "image_folder", "--data-dir", str(d["unreadable"])), "broken.png: unreadable image"),
    ("corrupt prepared cache", lambda d: _with("--prepared", str(d["cache"])), "cache.npz: prepared data is corrupt"),
    ("missing prepared cache", lambda d: _with("--prepared", "/no/cache.npz"), "prepared: /no/cache.npz: file not found"),
    ("YAML syntax error", lambda d: ["--config", str(d["bad_yaml"])], "bad.yaml: YAML syntax error"),
    ("unknown config key", lambda d: ["--config", str(d["typo_yaml"])], "epoch: unknown key"),
    ("missing config file", lambda d: ["--config", "/no/run.yaml"], "--config: /no/run.yaml: No such file"),
    ("bad loss-param syntax", lambda d: _with("--loss-param", "alpha", "--data-dir", str(d["good"])), "expected KEY=VALUE"),
    ("bad class list", lambda d: _with("--positives", "a,b", "--data-dir", str(d["good"])), "expected comma-separated class indices"),
]


@pytest.mark.parametrize("name, build, message", CASES, ids=[c[0] for c in CASES])
def test_cli_refuses_bad_input(bad_data, tmp_path, capsys, monkeypatch, name, build, message):
    from negpen import training

    def no_training(*args, **kwargs):
        raise AssertionError("training started on bad input")

    monkeypatch.setattr(training, "train_and_evaluate", no_training)
    out = tmp_path / "run"
    try:
        code = cli.main(["run", *build(bad_data), "--out", str(out)])
    except SystemExit as exit:  # argparse errors
        code = exit.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert message in err, err
    assert not (out / "metrics.json").exists()


def test_at_least_25_cases():
    assert len(CASES) >= 25


@pytest.mark.slow
@pytest.mark.parametrize("edit, message", [
    (lambda c: c["datasets"]["mnist"]["splits"]["s1"].update(known_negatives=[5, 6]),
     "config datasets.mnist.splits.s1: split: positives and known_negatives overlap"),
    (lambda c: c["datasets"]["mnist"].update(epochs=0), "epochs"),
    (lambda c: c["datasets"]["mnist"].update(epoch=3), "'epoch' was unexpected"),
    (lambda c: c.update(seed=[0]), "'seed' was unexpected"),
    (lambda c: c["datasets"]["mnist"].update(precision="float16"), "'float16' is not one of"),
    (lambda c: c["datasets"]["mnist"].update(seeds_per_job=0), "seeds_per_job"),
    (lambda c: c["losses"].update(bad={"id": "negpenn"}), "config losses.bad: loss: unknown loss 'negpenn'"),
    (lambda c: c["datasets"]["mnist"].update(data_dir="/no/data"), "data_dir: /no/data: not found"),
    (lambda c: c["datasets"]["cifar10"]["splits"]["s1"].update(positives=[0, 11]),
     "class 11 is outside the dataset's classes 0..9"),
])
def test_workflow_refuses_bad_config(tmp_path, edit, message):
    workdir = workflow_copy(tmp_path, with_smoke_data=True)
    config = load_config("smoke.yaml")
    edit(config)
    done = snakemake(workdir, "-n", "--configfile", write_config(workdir, "bad.yaml", config), check=False)
    assert done.returncode != 0
    assert message in done.stdout + done.stderr, done.stdout + done.stderr


@pytest.mark.slow
def test_workflow_refuses_yaml_syntax_error(tmp_path):
    workdir = workflow_copy(tmp_path, with_smoke_data=False)
    (workdir / "config" / "broken.yaml").write_text("seeds: [0, 1\nlosses: {}\n")
    done = snakemake(workdir, "-n", "--configfile", "config/broken.yaml", check=False)
    assert done.returncode != 0
    # Snakemake parses --configfile itself; its message does not name the file
    assert "Config file is not valid JSON or YAML" in done.stdout + done.stderr
