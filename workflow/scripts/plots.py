"""Snakemake script: every figure (negpen.plotting.write_figures)."""
from negpen import plotting

plotting.write_figures(snakemake.input.runs, snakemake.params.runs_root, snakemake.params.out_dir,
                       snakemake.params.loss_order)
