# negpen benchmark workflow: dataset × split × loss × seed → tables, figures, report.
# Usage: snakemake --cores 8                      (config/config.yaml)
#        snakemake --cores 2 --configfile config/smoke.yaml
#        snakemake --cores 8 --configfile config/config.yaml config/paper.yaml
#        snakemake figures --forcerun aggregate   (tables + figures from existing runs)
from snakemake.utils import min_version, validate

min_version("9.0")


if not config:  # `--configfile X` replaces the default grid instead of merging into it

    configfile: "config/config.yaml"



validate(config, "workflow/schemas/config.schema.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/plots.smk"
include: "workflow/rules/report.smk"


rule all:
    input:
        all_tables(),
        all_figures(),
    default_target: True
