"""A single-node SLURM cluster on localhost for the cluster tests (Debian slurm-wlm + munge).

:func:`start` writes a ``slurm.conf`` (no accounting database, no cgroups), starts
``munged``, ``slurmctld`` and ``slurmd -N localhost`` in the foreground as child processes
and waits until ``sinfo`` shows the node idle; :meth:`Cluster.stop` kills exactly those
process ids. The configuration is also installed as ``/etc/slurm/slurm.conf`` (any
previous file is restored on stop): Snakemake's SLURM job step removes ``SLURM_*``
variables, so ``srun`` inside a job only finds the default location.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

SLURM_CONF = """\
ClusterName=negpen
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
MinJobAge=86400
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation={state}/ctld
SlurmdSpoolDir={state}/spool
SlurmctldPidFile={state}/slurmctld.pid
SlurmdPidFile={state}/slurmd.pid
SlurmctldLogFile={state}/slurmctld.log
SlurmdLogFile={state}/slurmd.log
NodeName=localhost NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={memory_mb} State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
"""


class SlurmUnavailable(RuntimeError):
    """SLURM could not be installed or started here."""


def ensure_installed() -> None:
    """Install Debian's slurm-wlm and munge if their daemons are missing."""
    if all(shutil.which(tool) for tool in ("slurmctld", "slurmd", "munged", "sbatch")):
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise SlurmUnavailable("slurm-wlm is not installed and apt-get as root is not available")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "slurm-wlm", "munge"]):
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
        if done.returncode != 0:
            raise SlurmUnavailable(f"{' '.join(command)} failed: {done.stderr.strip()[-500:]}")


SYSTEM_CONF = Path("/etc/slurm/slurm.conf")


@dataclasses.dataclass
class Cluster:
    state: Path
    env: dict
    processes: list

    def stop(self) -> None:
        """Kill the daemons this cluster started (by process id), slurmd first; restore the system config."""
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in reversed(self.processes):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        backup = self.state / "system-slurm.conf"
        if backup.exists():
            shutil.copy(backup, SYSTEM_CONF)
        else:
            SYSTEM_CONF.unlink(missing_ok=True)

    def run(self, *command, check=True) -> subprocess.CompletedProcess:
        return subprocess.run(command, capture_output=True, text=True, env=self.env, check=check, timeout=60)


def _memory_mb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024 - 2048
    return 4096


def start(state: Path) -> Cluster:
    """Start munged, slurmctld and slurmd for localhost with their files under ``state``."""
    ensure_installed()
    state.mkdir(parents=True, exist_ok=True)
    for sub in ("ctld", "spool"):
        (state / sub).mkdir(exist_ok=True)
    conf = state / "slurm.conf"
    conf.write_text(SLURM_CONF.format(state=state, cpus=os.cpu_count(), memory_mb=_memory_mb()))
    if SYSTEM_CONF.exists():
        shutil.copy(SYSTEM_CONF, state / "system-slurm.conf")
    SYSTEM_CONF.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(conf, SYSTEM_CONF)
    env = {**os.environ, "SLURM_CONF": str(conf)}
    socket_dir = Path("/run/munge")
    socket_dir.mkdir(parents=True, exist_ok=True)
    shutil.chown(socket_dir, "munge", "munge")
    processes = []
    cluster = Cluster(state, env, processes)
    try:
        logs = {name: open(state / f"{name}.out", "w") for name in ("munged", "slurmctld", "slurmd")}
        processes.append(subprocess.Popen(
            ["munged", "--foreground", "--force", f"--log-file={state}/munged.log",
             f"--pid-file={state}/munged.pid", f"--seed-file={state}/munged.seed"],
            stdout=logs["munged"], stderr=subprocess.STDOUT, env=env))
        _wait(lambda: (socket_dir / "munge.socket.2").exists(), "munged socket", cluster)
        processes.append(subprocess.Popen(["slurmctld", "-D", "-i", "-f", str(conf)], stdout=logs["slurmctld"],
                                          stderr=subprocess.STDOUT, env=env))
        processes.append(subprocess.Popen(["slurmd", "-D", "-N", "localhost", "-f", str(conf)],
                                          stdout=logs["slurmd"], stderr=subprocess.STDOUT, env=env))
        _wait(lambda: cluster.run("sinfo", "-h", "-o", "%t", check=False).stdout.strip() == "idle",
              "the node to be idle in sinfo", cluster)
    except BaseException:
        cluster.stop()
        raise
    return cluster


def _wait(condition, what: str, cluster: Cluster, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process in cluster.processes:
            if process.poll() is not None:
                raise SlurmUnavailable(f"{process.args[0]} exited with {process.returncode} while waiting for "
                                       f"{what}; see {cluster.state}")
        if condition():
            return
        time.sleep(0.5)
    raise SlurmUnavailable(f"timed out waiting for {what}; see {cluster.state}")
