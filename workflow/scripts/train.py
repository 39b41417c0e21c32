"""Snakemake script: the runs of one training job (negpen.training.run_many), in one process.

A diverging run is recorded as failed, not raised.
"""
import contextlib
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from negpen import training  # noqa: E402
from negpen.spec import RunSpec  # noqa: E402

jobs = [(RunSpec.from_dict({**spec, "prepared": snakemake.input.data, "threads": snakemake.threads}), Path(path).parent)
        for spec, path in zip(snakemake.params.specs, snakemake.output.metrics)]
with open(snakemake.log[0], "w") as log, contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
    for (spec, out_dir), record in zip(jobs, training.run_many(jobs)):
        print(f"{out_dir}: status={record['status']} reason={record['reason']} timing={record['timing']}")
