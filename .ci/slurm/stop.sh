#!/usr/bin/env bash
# Stop the daemons .ci/slurm/start.sh started (by the pids it recorded); nothing else.
set -uo pipefail
STATE=${TOMOPRESS_SLURM_DIR:-/tmp/tomopress-slurm}
for name in slurmd slurmctld munged; do
    pidfile=$STATE/$name.pid
    [[ -s $pidfile ]] || continue
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    fi
    rm -f "$pidfile"
done
if [[ -s $STATE/linked-conf ]]; then
    link=$(cat "$STATE/linked-conf")
    [[ -L $link ]] && rm -f "$link"
    rm -f "$STATE/linked-conf"
fi
echo "SLURM stopped"
