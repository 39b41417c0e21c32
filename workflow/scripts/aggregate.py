"""Snakemake script: every table (negpen.aggregate.write_tables)."""
import logging
from pathlib import Path

from negpen import aggregate

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)
params = snakemake.params
tables = aggregate.write_tables(
    params.run_dirs, Path(snakemake.output.tables[0]).parent, reference_loss=params.reference_loss,
    loss_order=params.loss_order, reproduction_split=params.reproduction["split"],
    reproduction_losses=params.reproduction["losses"], timing_path=snakemake.output.timing)
failed = tables["failed_runs"]
if len(failed):
    logging.warning("%d failed run(s):\n%s", len(failed), failed.to_string(index=False))
    if params.fail_on_failed_runs:
        raise SystemExit(f"{len(failed)} run(s) failed (fail_on_failed_runs: true); see {snakemake.output.tables[-1]}")
