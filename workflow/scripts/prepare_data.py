"""Snakemake script: cache one dataset (negpen.datasets.prepare)."""
import logging

from negpen import datasets

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)
record = datasets.prepare(snakemake.wildcards.dataset, snakemake.params.source, snakemake.params.data_dir,
                          snakemake.output.npz)
logging.info("prepared %s", record)
