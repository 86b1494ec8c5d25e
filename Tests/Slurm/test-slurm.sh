#!/bin/bash
# `make test-slurm`: a sweep emitted for Slurm (sweep --emit slurm), submitted to a real
# single-node Slurm (controller + daemon started here, on loopback ports), merged by the
# dependent job, and compared with the same sweep run directly. Installs slurm-wlm if missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin="$root/.build/debug/smartserve"
started=$(date +%s)

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    echo "installing slurm-wlm"
    SUDO=$( [ "$(id -u)" = 0 ] || echo sudo )
    $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi

work=$(mktemp -d /tmp/smartserve-slurm.XXXXXX)
host=$(hostname -s)
export SLURM_CONF="$work/slurm.conf"
mkdir -p "$work/state" "$work/spool" "$work/log"
cat > "$SLURM_CONF" <<CONF
ClusterName=smartserve-test
SlurmctldHost=$host
SlurmUser=$(id -un)
AuthType=auth/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
NodeName=$host CPUs=$(nproc) State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF

our_munge=""
cleanup() {
    scontrol shutdown >/dev/null 2>&1 || true
    sleep 1
    for f in "$work/slurmctld.pid" "$work/slurmd.pid"; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true; done
    [ -n "$our_munge" ] && kill "$our_munge" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

if ! pgrep -x munged >/dev/null; then
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    [ -f /etc/munge/munge.key ] || /usr/sbin/mungekey --create >/dev/null 2>&1 || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 2>/dev/null
    chown -R munge:munge /run/munge /var/log/munge /var/lib/munge /etc/munge
    chmod 400 /etc/munge/munge.key
    runuser -u munge -- /usr/sbin/munged
    our_munge=$(pgrep -x munged)
fi
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 30); do sinfo -h -o %T 2>/dev/null | grep -q idle && break; sleep 1; done
sinfo

cd "$root"
args=(--schedulers vllm,sarathi,sjf --rates 4,8 --hardware A100-80G --max-num-seqs 16)
"$bin" sweep "${args[@]}" --emit slurm "$work/jobs" --shards 3
sh "$work/jobs/submit.sh"
for _ in $(seq 300); do
    [ -s "$work/jobs/sweep.json" ] && [ -z "$(squeue -h)" ] && break
    sleep 1
done
squeue
"$bin" sweep "${args[@]}" > "$work/plain.txt"
"$bin" sweep "${args[@]}" --json 2>/dev/null > "$work/plain.json"
ls "$work/jobs/shards"
if cmp -s "$work/plain.txt" "$work/jobs/sweep.txt" && cmp -s "$work/plain.json" "$work/jobs/sweep.json"; then
    cat "$work/jobs/sweep.txt"
    echo "slurm: 3 array tasks and the merge job gave the plain sweep's table and JSON ($(( $(date +%s) - started )) s in all)"
else
    echo "slurm: the merged sweep differs from the plain one" >&2
    diff "$work/plain.txt" "$work/jobs/sweep.txt" >&2 || true
    cat "$work/jobs/logs/"* >&2 || true
    tail -20 "$work/log/"*.log >&2 || true
    exit 1
fi
