"""Snakemake script: one run (negpen.training.run). A diverging run is recorded as failed, not raised."""
import contextlib
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from negpen import training  # noqa: E402
from negpen.spec import RunSpec  # noqa: E402

spec = RunSpec.from_dict({**snakemake.params.spec, "prepared": snakemake.input.data, "threads": snakemake.threads})
with open(snakemake.log[0], "w") as log, contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
    record = training.run(spec, Path(snakemake.output.metrics).parent)
    print(f"status={record['status']} reason={record['reason']} timing={record['timing']}")
