"""Quick versions of the benchmark scripts, so that they cannot rot (the real measurements
are in docs/performance.md)."""

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def run(script, *args):
    done = subprocess.run([sys.executable, str(BENCHMARKS / script), *args], capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done.stdout


def test_throughput_quick():
    out = run("throughput.py", "--synthetic", "--limit", "1000", "--epochs", "1", "--repeats", "1")
    assert "| negpen float32 |" in out and "| negpen mixed_bfloat16 |" in out and "| notebook |" in out
    assert "speed-up negpen float32 / notebook" in out and "speed-up negpen mixed_bfloat16 / notebook" in out


def test_run_overhead_quick():
    out = run("run_overhead.py", "--synthetic", "--epochs", "1", "--runs-per-process", "2")
    assert "fixed overhead (all but train), one run per process" in out and "2 runs per process" in out


def test_makespan_quick():
    out = run("makespan.py", "--synthetic", "--limit-train", "200", "--epochs", "1", "--seeds-per-job", "1", "2")
    assert "seeds_per_job 1: 12 training jobs" in out and "seeds_per_job 2: 6 training jobs" in out
    assert out.count("ratio") == 2


def test_dag_scale_quick():
    out = run("dag_scale.py", "--runs", "120")
    assert "dry run of" in out and "aggregation of" in out
