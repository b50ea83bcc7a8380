#!/usr/bin/env bash
# Bring up a minimal single-node SLURM (munge + slurmctld + slurmd) on this machine, for the
# `@pytest.mark.slurm` integration tests (tests/test_slurm.py).
#
# Debian/Ubuntu, run as root, no systemd needed (the daemons are started directly).
# Idempotent: running it again when SLURM is already up only checks that the node is usable.
# Exit 0 when `sinfo` shows the node idle (or mixed/allocated); non-zero with a message on stderr.
set -euo pipefail

log() { echo "setup_slurm: $*" >&2; }
die() { echo "setup_slurm: ERROR: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (installs packages, writes /etc/slurm, starts daemons)"

NODE="$(hostname -s)"
[ -n "$NODE" ] || die "hostname -s is empty"
CPUS="$(nproc)"
MEM_MB=$(( $(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024 ))
REAL_MEM=$(( MEM_MB * 8 / 10 ))   # a bit below the real amount, or slurmd marks the node invalid
CONF=/etc/slurm/slurm.conf

# --- packages ----------------------------------------------------------------------------------
if ! command -v slurmctld >/dev/null 2>&1 || ! command -v slurmd >/dev/null 2>&1 \
        || ! command -v munged >/dev/null 2>&1 || ! command -v sinfo >/dev/null 2>&1; then
    command -v apt-get >/dev/null 2>&1 || die "slurmctld is missing and apt-get is not available"
    log "installing slurm-wlm and munge with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null || die "apt-get update failed"
    apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null \
        || die "apt-get install slurm-wlm munge failed"
fi
# The Debian packages put the daemons in /usr/sbin, which may not be on a non-login PATH.
export PATH="$PATH:/usr/sbin:/sbin"

# --- munge -------------------------------------------------------------------------------------
mkdir -p /etc/munge /run/munge /var/lib/munge /var/log/munge
if [ ! -s /etc/munge/munge.key ]; then
    log "creating /etc/munge/munge.key"
    if command -v mungekey >/dev/null 2>&1; then
        mungekey --create --keyfile=/etc/munge/munge.key --force
    else
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    fi
fi
if id munge >/dev/null 2>&1; then
    chown munge:munge /etc/munge/munge.key /run/munge /var/lib/munge /var/log/munge
fi
chmod 0400 /etc/munge/munge.key
chmod 0755 /run/munge

if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    if ! pgrep -x munged >/dev/null 2>&1; then
        log "starting munged"
        if id munge >/dev/null 2>&1; then
            runuser -u munge -- munged || munged --force || die "munged failed to start"
        else
            munged --force || die "munged failed to start"
        fi
    fi
    for _ in $(seq 1 20); do
        munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break
        sleep 0.5
    done
    munge -n 2>/dev/null | unmunge >/dev/null 2>&1 || die "munge does not work (munge -n | unmunge)"
fi

# --- slurm.conf --------------------------------------------------------------------------------
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
NEW_CONF="$(cat <<EOF
# Written by ci/slurm/setup_slurm.sh: a single-node SLURM for the gzsim integration tests.
ClusterName=gzsim
SlurmctldHost=${NODE}
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
NodeName=${NODE} CPUs=${CPUS} RealMemory=${REAL_MEM} State=UNKNOWN
PartitionName=debug Nodes=${NODE} Default=YES MaxTime=INFINITE State=UP
EOF
)"
CONF_CHANGED=0
if [ ! -f "$CONF" ] || [ "$(cat "$CONF")" != "$NEW_CONF" ]; then
    if [ -f "$CONF" ] && ! grep -q "setup_slurm.sh" "$CONF"; then
        cp -p "$CONF" "$CONF.bak.$(date +%s)"
        log "backed up the existing $CONF"
    fi
    printf '%s\n' "$NEW_CONF" > "$CONF"
    CONF_CHANGED=1
    log "wrote $CONF (node ${NODE}, CPUs=${CPUS}, RealMemory=${REAL_MEM})"
fi
# No cgroups (containers often have none): slurm 22.05 autodetects without a cgroup.conf, and
# 'CgroupPlugin=disabled' is only known from 23.x, so make sure there is none.
rm -f /etc/slurm/cgroup.conf

# --- daemons -----------------------------------------------------------------------------------
if pgrep -x slurmctld >/dev/null 2>&1; then
    if [ "$CONF_CHANGED" -eq 1 ]; then
        log "slurm.conf changed: scontrol reconfigure"
        scontrol reconfigure || log "scontrol reconfigure failed (continuing)"
    fi
else
    log "starting slurmctld"
    slurmctld || die "slurmctld failed to start; see /var/log/slurm/slurmctld.log: $(tail -n 5 /var/log/slurm/slurmctld.log 2>/dev/null | tr '\n' ' ')"
fi

ok=0
for _ in $(seq 1 30); do
    if scontrol ping 2>/dev/null | grep -q "is UP"; then ok=1; break; fi
    sleep 1
done
[ "$ok" -eq 1 ] || die "slurmctld is not responding (scontrol ping); log tail: $(tail -n 5 /var/log/slurm/slurmctld.log 2>/dev/null | tr '\n' ' ')"

if ! pgrep -x slurmd >/dev/null 2>&1; then
    log "starting slurmd"
    slurmd || die "slurmd failed to start; see /var/log/slurm/slurmd.log: $(tail -n 5 /var/log/slurm/slurmd.log 2>/dev/null | tr '\n' ' ')"
fi

# --- wait for the node -------------------------------------------------------------------------
state=""
for i in $(seq 1 60); do
    state="$(sinfo -h -n "$NODE" -o '%t' 2>/dev/null | head -n 1 || true)"
    case "$state" in
        idle|mix|alloc|comp) break ;;
        down*|drain*|drng*|fail*|inval*)
            if [ $(( i % 5 )) -eq 1 ]; then
                log "node ${NODE} is '${state}': scontrol update state=resume"
                scontrol update nodename="$NODE" state=resume 2>/dev/null || true
            fi ;;
    esac
    sleep 1
done
case "$state" in
    idle|mix|alloc|comp) ;;
    *) die "node ${NODE} did not become idle (state '${state:-none}'); reason: $(sinfo -h -R -n "$NODE" 2>/dev/null | tr '\n' ' '); slurmd log tail: $(tail -n 5 /var/log/slurm/slurmd.log 2>/dev/null | tr '\n' ' ')" ;;
esac

log "SLURM is up: $(sinfo -h -n "$NODE" -o '%P %t %c CPUs %m MB' | head -n 1)"
exit 0
