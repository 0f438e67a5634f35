#!/usr/bin/env bash
# Start (or reuse) a single-node SLURM on this machine, for tests/workflow/test_slurm.py.
#
#   .ci/slurm/start.sh              # installs Debian's slurm + munge when missing (needs root + apt)
#   export SLURM_CONF=/tmp/tomopress-slurm/slurm.conf
#   ... sbatch / squeue / snakemake --executor slurm ...
#   .ci/slurm/stop.sh               # stops only the daemons this script started, by pid
#
# State (config, pid files, logs, spool) lives in $TOMOPRESS_SLURM_DIR (default /tmp/tomopress-slurm).
# Exit status: 0 running (started or reused), 3 unavailable here (no root, no apt, install failed),
# 1 the daemons did not come up (logs in the state folder).
set -euo pipefail

STATE=${TOMOPRESS_SLURM_DIR:-/tmp/tomopress-slurm}
CONF=$STATE/slurm.conf
export SLURM_CONF=$CONF
unavailable() { echo "SLURM unavailable: $*" >&2; exit 3; }
alive() { [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

if alive "$STATE/slurmctld.pid" && alive "$STATE/slurmd.pid" && sinfo -h >/dev/null 2>&1; then
    echo "SLURM already running (SLURM_CONF=$CONF)"
    exit 0
fi

[[ $(id -u) == 0 ]] || unavailable "this script starts slurmctld/slurmd as root; run it as root"
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
        || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
    command -v apt-get >/dev/null || unavailable "slurm is not installed and apt-get is missing"
    echo "installing slurmctld slurmd slurm-client munge with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq && apt-get install -y -qq slurmctld slurmd slurm-client munge; } \
        >"${TMPDIR:-/tmp}/tomopress-slurm-apt.log" 2>&1 \
        || unavailable "apt-get install failed (see ${TMPDIR:-/tmp}/tomopress-slurm-apt.log)"
fi

mkdir -p "$STATE/ctld" "$STATE/spool"

# munge: reuse a running munged, else start one as the munge user and remember its pid.
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    install -d -o munge -g munge -m 0755 /run/munge
    if [[ ! -s /etc/munge/munge.key ]]; then
        install -d -o munge -g munge -m 0700 /etc/munge
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
        chown munge:munge /etc/munge/munge.key
        chmod 0400 /etc/munge/munge.key
    fi
    runuser -u munge -- /usr/sbin/munged --force
    for _ in $(seq 50); do [[ -s /run/munge/munged.pid ]] && break; sleep 0.1; done
    cp /run/munge/munged.pid "$STATE/munged.pid"
    munge -n | unmunge >/dev/null || { echo "munged did not start" >&2; exit 1; }
fi

NODE=$(hostname -s)
CPUS=$(nproc)
# RealMemory may not exceed the machine's memory (else the node is drained): leave 512 MB spare.
MEM_MB=${TOMOPRESS_SLURM_MEM_MB:-$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 512 ))}
cat >"$CONF" <<CONF
# Written by .ci/slurm/start.sh: a single-node test cluster without accounting.
ClusterName=tomopress
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
ReturnToService=2
# squeue must still see a finished job when snakemake asks (the plugin wants >= 3x its interval)
MinJobAge=300
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/slurmctld.pidfile
SlurmdPidFile=$STATE/slurmd.pidfile
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
CONF

# Jobs run srun without SLURM_CONF (the snakemake plugin drops SLURM_* variables inside a job), so
# the default path must lead to this config too: link it there unless another cluster owns it.
ETC_CONF=/etc/slurm/slurm.conf
if [[ -L $ETC_CONF && $(readlink "$ETC_CONF") == "$CONF" ]]; then
    :
elif [[ -e $ETC_CONF || -L $ETC_CONF ]]; then
    unavailable "$ETC_CONF exists and belongs to another SLURM; not touching it"
else
    mkdir -p /etc/slurm
    ln -s "$CONF" "$ETC_CONF"
    echo "$ETC_CONF" >"$STATE/linked-conf"
fi

# -D keeps each daemon in the foreground of its own session, so $! is its pid; -c forgets the
# jobs of an earlier cluster on this machine (a killed test run leaves them queued, and they
# would hold the node until their time limit).
setsid slurmctld -D -c -f "$CONF" -i >"$STATE/slurmctld.out" 2>&1 < /dev/null &
echo $! >"$STATE/slurmctld.pid"
setsid slurmd -D -f "$CONF" >"$STATE/slurmd.out" 2>&1 < /dev/null &
echo $! >"$STATE/slurmd.pid"

for _ in $(seq 150); do
    if [[ $(sinfo -h -o %t 2>/dev/null) =~ ^(idle|mix|alloc) ]]; then
        echo "SLURM running: node $NODE, $CPUS CPUs, ${MEM_MB} MB (export SLURM_CONF=$CONF)"
        exit 0
    fi
    sleep 0.2
done
echo "SLURM did not come up; node state: $(sinfo -h -o '%t %E' 2>&1)" >&2
tail -n 20 "$STATE/slurmctld.log" "$STATE/slurmd.log" >&2 || true
exit 1
