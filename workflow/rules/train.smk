rule train:
    """One run: train and evaluate (dataset, split, loss, seed); writes its run directory."""
    input:
        data=f"{RESULTS}/data/{{dataset}}.npz",
    output:
        metrics=f"{RESULTS}/runs/{{dataset}}/{{split}}/{{loss}}/seed{{seed}}/metrics.json",
        history=f"{RESULTS}/runs/{{dataset}}/{{split}}/{{loss}}/seed{{seed}}/history.csv",
        scores=f"{RESULTS}/runs/{{dataset}}/{{split}}/{{loss}}/seed{{seed}}/scores.npz",
    params:
        spec=lambda wc: grid.run_spec(
            config, grid.RunKey(wc.dataset, wc.split, wc.loss, int(wc.seed))
        ).to_dict(),
    threads: config["threads"]
    resources:
        mem_mb=lambda wc: training_setting(wc, "mem_mb", 4000),
        runtime=lambda wc: training_setting(wc, "runtime", 60),
    log:
        f"{RESULTS}/logs/train/{{dataset}}/{{split}}/{{loss}}/seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train/{{dataset}}/{{split}}/{{loss}}/seed{{seed}}.tsv"
    conda:
        "../envs/negpen.yaml"
    script:
        "../scripts/train.py"
