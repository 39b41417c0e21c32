rule prepare_data:
    """Read a dataset once (tfds, canonical files or image folder) into a checksummed .npz."""
    output:
        npz=f"{RESULTS}/data/{{dataset}}.npz",
        record=f"{RESULTS}/data/{{dataset}}.json",
    params:
        source=lambda wc: training_setting(wc, "source", "tfds"),
        data_dir=lambda wc: training_setting(wc, "data_dir", None),
    log:
        f"{RESULTS}/logs/prepare_data/{{dataset}}.log",
    localrule: True
    conda:
        "../envs/negpen.yaml"
    script:
        "../scripts/prepare_data.py"
