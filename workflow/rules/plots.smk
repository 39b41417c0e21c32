rule plots:
    """Every figure from runs.csv and the runs' scores.npz (no retraining)."""
    input:
        runs=f"{RESULTS}/tables/runs.csv",
        scores=all_run_files("scores.npz"),
    output:
        [
            report(
                f"{RESULTS}/figures/{name}.{ext}",
                caption=f"../report/{name if name not in METRIC_FIGURES else 'metric'}.rst",
                category="Figures",
                subcategory=name,
            )
            for name in FIGURES
            for ext in ("png", "pdf")
        ],
    params:
        runs_root=lambda wc, input: str(Path(input.runs).parent.parent / "runs"),
        out_dir=lambda wc, output: str(Path(output[0]).parent),
        loss_order=list(config["losses"]),
    log:
        f"{RESULTS}/logs/plots.log",
    benchmark:
        f"{RESULTS}/benchmarks/plots.tsv"
    localrule: True
    conda:
        "../envs/negpen.yaml"
    script:
        "../scripts/plots.py"


rule figures:
    """Target: every table and figure (`snakemake figures --forcerun aggregate` redraws from existing runs)."""
    input:
        all_tables(),
        all_figures(),
    localrule: True
