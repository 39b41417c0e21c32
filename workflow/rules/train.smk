# Training jobs. With a dataset's `seeds_per_job: 1` (default) rule `train` runs one
# (dataset, split, loss, seed). With `seeds_per_job: k` one job trains k seeds of a
# (dataset, split, loss) in one process (TensorFlow starts once, the data is read once;
# results identical to one run per job): one rule per chunk of seeds, see train_rules().
for rule_name, rule_seeds, rule_datasets in train_rules():

    rule:
        name:
            rule_name
        wildcard_constraints:
            dataset="|".join(rule_datasets),
        input:
            data=f"{RESULTS}/data/{{dataset}}.npz",
        output:
            metrics=run_files("metrics.json", rule_seeds),
            history=run_files("history.csv", rule_seeds),
            scores=run_files("scores.npz", rule_seeds),
        params:
            specs=lambda wc, rule_seeds=rule_seeds: [
                grid.run_spec(config, key).to_dict() for key in job_runs(wc, rule_seeds)
            ],
        threads: config["threads"]
        resources:
            mem_mb=lambda wc: training_setting(wc, "mem_mb", 4000),
            runtime=lambda wc, rule_seeds=rule_seeds: len(rule_seeds)
            * training_setting(wc, "runtime", 60),
        log:
            f"{RESULTS}/logs/train/{{dataset}}/{{split}}/{{loss}}/seed{'-'.join(rule_seeds)}.log",
        benchmark:
            f"{RESULTS}/benchmarks/train/{{dataset}}/{{split}}/{{loss}}/seed{'-'.join(rule_seeds)}.tsv"
        conda:
            "../envs/negpen.yaml"
        script:
            "../scripts/train.py"
