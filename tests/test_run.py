"""One run end to end on tiny generated data: record, atomicity, failure status, determinism, CLI."""

import json
import math
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from negpen import datasets, metrics, records, training
from negpen.spec import RunSpec, SpecError
from negpen.splits import Split

pytestmark = pytest.mark.slow
NOTEBOOK_SPLIT = dict(positives=[0, 1, 2, 3, 4, 5], known_negatives=[6, 7], unknown_negatives=[8, 9])


def spec_for(data_dir, **overrides):
    values = dict(dataset="mnist", source="files", data_dir=str(data_dir), loss="negpen", epochs=1,
                  batch_size=32, seed=3, threads=1, **NOTEBOOK_SPLIT)
    values.update(overrides)
    return RunSpec.from_dict(values)


def test_run_writes_complete_record(mnist_idx, tmp_path):
    out = tmp_path / "run"
    record = training.run(spec_for(mnist_idx, epochs=2, limit_test=250), out)
    assert sorted(p.name for p in out.iterdir()) == ["history.csv", "metrics.json", "scores.npz"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left behind
    on_disk = json.loads((out / "metrics.json").read_text())
    assert on_disk == json.loads(json.dumps(records._jsonable(record)))
    assert on_disk["status"] == "ok" and on_disk["reason"] is None
    assert set(on_disk["metrics"]) == set(metrics.METRIC_NAMES)
    assert set(on_disk["timing"]) >= {"data_load", "model_build", "train", "evaluate", "write", "wall",
                                      "train_images_per_s"}
    assert set(on_disk["provenance"]) >= {"negpen", "tensorflow", "keras", "numpy", "python", "git_commit",
                                          "hostname", "threads"}
    assert on_disk["spec"]["positives"] == NOTEBOOK_SPLIT["positives"]
    # training never sees unknown negatives; test keeps every class of the split
    assert on_disk["n_train"] == sum(np.isin(np.arange(600) % 10, range(8)))
    assert on_disk["n_test"] == 250
    history = pd.read_csv(out / "history.csv")
    assert list(history["epoch"]) == [1, 2]
    assert {"loss", "positive_accuracy", "negative_rejection", "combined"} <= set(history.columns)
    with np.load(out / "scores.npz") as scores:
        assert len(scores["y_true"]) == 250 and set(np.unique(scores["y_true"])) == set(range(10))
        recomputed = metrics.evaluate_predictions(scores["y_true"], scores["y_pred"], scores["score"],
                                                  Split(**NOTEBOOK_SPLIT))
    for name, value in recomputed.items():
        stored = on_disk["metrics"][name]
        assert (stored is None and math.isnan(value)) or stored == pytest.approx(value, abs=1e-6), name
    assert on_disk["metrics"]["positive_accuracy"] > 0.5  # the synthetic classes are learnable


def test_objectosphere_and_background_and_positives_only_runs(mnist_idx, tmp_path):
    for loss in ("objectosphere", "background", "positives_only"):
        record = training.run(spec_for(mnist_idx, loss=loss, limit_train=200, limit_test=100), tmp_path / loss)
        assert record["status"] == "ok", loss
    assert record["n_train"] == 200 * 6 // 8  # positives_only drops the known negatives of the same subset


def test_divergence_is_recorded_as_failed(mnist_idx, tmp_path):
    record = training.run(spec_for(mnist_idx, loss="ce_all", learning_rate=1e30, limit_train=300), tmp_path / "r")
    assert record["status"] == "failed"
    assert "non-finite" in record["reason"]
    on_disk = records.read_metrics(tmp_path / "r")
    assert on_disk["status"] == "failed" and on_disk["metrics"]["positive_accuracy"] is None


def test_interrupted_run_leaves_no_metrics(mnist_idx, tmp_path, monkeypatch):
    out = tmp_path / "run"
    out.mkdir()
    (out / "metrics.json").write_text("{}")  # a stale record must not survive a rerun

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(training.np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        training.run(spec_for(mnist_idx, limit_train=100, limit_test=50), out)
    assert not (out / "metrics.json").exists()


def test_mixed_bfloat16_run_keeps_float32_weights_and_softmax(mnist_idx, tmp_path):
    import keras

    spec = spec_for(mnist_idx, precision="mixed_bfloat16", loss="objectosphere", limit_train=200, limit_test=60,
                    save_model=True)
    record = training.run(spec, tmp_path / "r")
    assert record["status"] == "ok" and record["spec"]["precision"] == "mixed_bfloat16"
    assert keras.config.dtype_policy().name == "float32"  # the global policy is restored
    model = keras.saving.load_model(tmp_path / "r" / "model.keras", compile=False)
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert convs and all(layer.compute_dtype == "bfloat16" and layer.kernel.dtype == "float32" for layer in convs)
    assert model.get_layer("probs").compute_dtype == "float32"
    assert model.get_layer("probs_and_features").compute_dtype == "float32"
    with np.load(tmp_path / "r" / "scores.npz") as scores:
        assert scores["score"].dtype == np.float32 and np.all(np.isfinite(scores["score"]))


def test_unknown_precision_is_refused():
    with pytest.raises(SpecError, match="precision: unknown precision 'float16'"):
        RunSpec.from_dict({"dataset": "mnist", "positives": [0], "known_negatives": [1], "precision": "float16"}).validate()


def test_limit_subsets_are_stratified_and_deterministic():
    y = np.repeat(np.arange(4), [100, 50, 30, 20])
    chosen = training.stratified_subset(y, 40)
    assert len(chosen) == 40 and np.bincount(y[chosen]).tolist() == [20, 10, 6, 4]
    np.testing.assert_array_equal(chosen, training.stratified_subset(y, 40))
    assert len(training.stratified_subset(y, 1000)) == 200


def test_validation_fraction_is_carved_from_training(mnist_idx, tmp_path):
    record = training.run(spec_for(mnist_idx, validation_fraction=0.25, limit_train=200, limit_test=50),
                          tmp_path / "r")
    history = pd.read_csv(tmp_path / "r" / "history.csv")
    assert "val_loss" in history.columns and record["status"] == "ok"


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "negpen.cli", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})


DETERMINISM_ARGS = ["--positives", "0,1,2,3,4,5", "--known-negatives", "6,7", "--unknown-negatives", "8,9",
                    "--loss", "negpen", "--loss-param", "alpha=0.5", "--epochs", "1", "--batch-size", "50",
                    "--threads", "1"]


def assert_same_run(a_dir, b_dir):
    """Two run directories hold the same results (timings and provenance aside)."""
    a, b = records.read_metrics(a_dir), records.read_metrics(b_dir)
    for key in ("spec", "status", "metrics", "n_train", "n_test"):
        assert a[key] == b[key], key
    assert (a_dir / "scores.npz").read_bytes() == (b_dir / "scores.npz").read_bytes()
    assert (a_dir / "history.csv").read_text() == (b_dir / "history.csv").read_text()


def test_cli_runs_are_deterministic_across_processes(mnist_idx, tmp_path):
    args = ["run", "--dataset", "mnist", "--source", "files", "--data-dir", str(mnist_idx), *DETERMINISM_ARGS,
            "--seed", "11"]
    first, second = _cli(*args, "--out", str(tmp_path / "a")), _cli(*args, "--out", str(tmp_path / "b"))
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert "status=ok" in first.stdout
    assert records.read_metrics(tmp_path / "a")["spec"]["loss_params"] == {"alpha": 0.5}
    assert_same_run(tmp_path / "a", tmp_path / "b")


def test_seeds_in_one_process_equal_runs_of_their_own(mnist_idx, tmp_path):
    """`--seeds` (training.run_many) changes no result: each run equals a fresh process's run."""
    data = tmp_path / "mnist.npz"
    datasets.prepare("mnist", "files", mnist_idx, data)
    args = ["run", "--dataset", "mnist", "--prepared", str(data), *DETERMINISM_ARGS]
    together = _cli(*args, "--seeds", "11,4", "--out", str(tmp_path / "together" / "seed{seed}"))
    assert together.returncode == 0, together.stderr
    assert together.stdout.count("status=ok") == 2
    for seed in (4, 11):
        alone = _cli(*args, "--seed", str(seed), "--out", str(tmp_path / "alone" / f"seed{seed}"))
        assert alone.returncode == 0, alone.stderr
        assert_same_run(tmp_path / "together" / f"seed{seed}", tmp_path / "alone" / f"seed{seed}")
        assert records.read_metrics(tmp_path / "alone" / f"seed{seed}")["spec"]["seed"] == seed
    assert records.read_metrics(tmp_path / "together" / "seed4")["metrics"] != \
        records.read_metrics(tmp_path / "together" / "seed11")["metrics"]


def test_run_many_refuses_mixed_threads_before_training(mnist_idx, tmp_path):
    with pytest.raises(SpecError, match="threads: runs sharing a process"):
        training.run_many([(spec_for(mnist_idx, threads=1), tmp_path / "a"),
                           (spec_for(mnist_idx, threads=2), tmp_path / "b")])
    assert not (tmp_path / "a").exists()


def test_cli_config_file_and_option_override(mnist_idx, tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text(f"dataset: mnist\nsource: files\ndata-dir: {mnist_idx}\npositives: [0, 1, 2, 3, 4, 5]\n"
                      "known_negatives: [6, 7]\nloss: entropic\nepochs: 1\nlimit_train: 120\nlimit_test: 60\n")
    done = _cli("run", "--config", str(config), "--loss", "negpen", "--out", str(tmp_path / "r"))
    assert done.returncode == 0, done.stderr
    assert records.read_metrics(tmp_path / "r")["spec"]["loss"] == "negpen"


def test_cli_failed_run_exits_1(mnist_idx, tmp_path):
    done = _cli("run", "--dataset", "mnist", "--source", "files", "--data-dir", str(mnist_idx), "--positives",
                "0,1", "--known-negatives", "2", "--loss", "ce_all", "--learning-rate", "1e30", "--limit-train",
                "100", "--out", str(tmp_path / "r"))
    assert done.returncode == 1 and "status=failed" in done.stdout


@pytest.mark.parametrize("args, message", [
    (["--loss", "negpenn"], "loss: unknown loss 'negpenn'"),
    (["--positives", "0,1", "--known-negatives", "1"], "positives and known_negatives overlap"),
    (["--epochs", "0"], "epochs: 0 must be at least 1"),
    (["--data-dir", "/nonexistent"], "data_dir: /nonexistent: not found"),
    (["--seeds", "1,2"], "must contain {seed} when --seeds is given"),
    (["--seeds", "1,2", "--seed", "3"], "give either --seed or --seeds"),
])
def test_cli_bad_input_exits_2_with_one_line(mnist_idx, tmp_path, args, message):
    base = {"--dataset": "mnist", "--source": "files", "--data-dir": str(mnist_idx), "--positives": "0,1,2",
            "--known-negatives": "3"}
    for key, value in zip(args[::2], args[1::2]):
        base[key] = value
    flat = [part for item in base.items() for part in item]
    done = _cli("run", *flat, "--out", str(tmp_path / "r"))
    assert done.returncode == 2
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()


def test_spec_from_dict_rejects_unknown_keys():
    with pytest.raises(SpecError, match="epoch: unknown key"):
        RunSpec.from_dict({"dataset": "mnist", "positives": [0], "epoch": 3})
