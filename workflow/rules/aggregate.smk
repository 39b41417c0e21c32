rule aggregate:
    """Tidy per-run table, summaries with CIs, paired tests, the notebook table, failed runs."""
    input:
        metrics=all_run_files("metrics.json"),
    output:
        tables=[
            report(
                f"{RESULTS}/tables/{name}",
                caption=f"../report/{name.split('.')[0]}.rst",
                category="Tables",
            )
            for name in TABLES
        ],
        timing=f"{RESULTS}/performance/timing.csv",
    params:
        run_dirs=[run_dir(key) for key in RUNS],
        reference_loss=config["reference_loss"],
        loss_order=list(config["losses"]),
        reproduction=config["reproduction"],
        fail_on_failed_runs=config["fail_on_failed_runs"],
    log:
        f"{RESULTS}/logs/aggregate.log",
    benchmark:
        f"{RESULTS}/benchmarks/aggregate.tsv"
    localrule: True
    conda:
        "../envs/negpen.yaml"
    script:
        "../scripts/aggregate.py"
