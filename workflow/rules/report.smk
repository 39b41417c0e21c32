# `snakemake --report results/report.html` collects every output marked with report()
# (tables and figures) with its caption from workflow/report/.
report: "../report/workflow.rst"
