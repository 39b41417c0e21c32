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
        runs_root=f"{RESULTS}/runs",
        out_dir=f"{RESULTS}/figures",
        loss_order=list(config["losses"]),
    log:
        f"{RESULTS}/logs/plots.log",
    localrule: True
    script:
        "../scripts/plots.py"


rule figures:
    """Target: every table and figure (`snakemake figures --forcerun aggregate` redraws from existing runs)."""
    input:
        all_tables(),
        all_figures(),
    localrule: True
