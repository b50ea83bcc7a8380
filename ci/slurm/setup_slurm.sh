#!/usr/bin/env bash
# Start a single-node SLURM (slurmctld + slurmd, munge auth) on this machine, for the
# integration test of `gzsim sweep --cluster slurm` (tests/test_slurm.py).
# Idempotent: installs Debian's slurm-wlm and munge if missing, (re)writes the config, starts
# the daemons if they are not running, and waits until the node is idle.
# Needs root and apt. Exit status 0 when `sinfo` shows an idle node.
set -euo pipefail

log() { echo "setup_slurm: $*" >&2; }

if [ "$(id -u)" != 0 ]; then log "needs root"; exit 1; fi

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  log "installing slurm-wlm and munge with apt"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || true
  apt-get install -y -qq slurm-wlm munge >/dev/null
fi

HOST=$(hostname -s)
CPUS=$(nproc)
MEM_MB=$(awk '/MemTotal/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)

# munge: a key, its directories, the daemon
mkdir -p /etc/munge /var/log/munge /var/lib/munge /run/munge
if [ ! -s /etc/munge/munge.key ]; then
  dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
fi
chown -R munge:munge /etc/munge /var/log/munge /var/lib/munge /run/munge 2>/dev/null || true
chmod 0700 /etc/munge /var/log/munge /var/lib/munge
chmod 0755 /run/munge
chmod 0400 /etc/munge/munge.key
if ! pgrep -x munged >/dev/null; then
  runuser -u munge -- /usr/sbin/munged --force 2>/dev/null || /usr/sbin/munged --force
fi
munge -n | unmunge >/dev/null || { log "munge does not work"; exit 1; }

# slurm.conf: one node, no cgroups (containers often have none), no accounting
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
chown -R slurm:slurm /var/spool/slurmctld /var/log/slurm 2>/dev/null || true
cat > /etc/slurm/slurm.conf <<CONF
ClusterName=gzsim
SlurmctldHost=${HOST}
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
SchedulerType=sched/backfill
NodeName=${HOST} CPUs=${CPUS} RealMemory=${MEM_MB} State=UNKNOWN
PartitionName=debug Nodes=${HOST} Default=YES MaxTime=INFINITE State=UP
CONF
rm -f /etc/slurm/cgroup.conf  # slurm 22.05 autodetects; 'disabled' is only known from 23.x

pgrep -x slurmctld >/dev/null || slurmctld
pgrep -x slurmd >/dev/null || slurmd

for _ in $(seq 1 30); do
  state=$(sinfo -h -N -o '%t' 2>/dev/null | head -1 || true)
  case "$state" in
    idle|mix|alloc) log "node ${HOST} is ${state}"; exit 0 ;;
    down*|drain*|unk*) scontrol update nodename="${HOST}" state=resume >/dev/null 2>&1 || true ;;
  esac
  sleep 1
done
log "SLURM did not come up; last node state: '${state:-none}'"
tail -5 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 2>/dev/null || true
exit 1
