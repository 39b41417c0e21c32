import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest  # noqa: E402

from negpen import synthetic  # noqa: E402


@pytest.fixture(scope="session")
def mnist_idx(tmp_path_factory):
    """Tiny MNIST in the canonical gzipped IDX files."""
    return synthetic.write_idx(tmp_path_factory.mktemp("mnist"), n_train=600, n_test=300)


@pytest.fixture(scope="session")
def cifar_python(tmp_path_factory):
    """Full-size CIFAR-10 python batches (10000 synthetic images each)."""
    return synthetic.write_cifar_python(tmp_path_factory.mktemp("cifar"))


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """The smoke grid run once, uninterrupted: ``(workdir, completed process)``."""
    from workflow_helpers import snakemake, workflow_copy

    workdir = workflow_copy(tmp_path_factory.mktemp("smoke"))
    return workdir, snakemake(workdir, "--cores", "2", "--configfile", "config/smoke.yaml")
