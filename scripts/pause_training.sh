#!/usr/bin/env bash
# Pause (or, with "resume", continue) the background training lanes of scripts/training_campaign.sh, e.g. while a
# benchmark runs: kill -STOP / -CONT to each lane's whole process group. Nothing is lost; training resumes in place.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
signal=STOP
[ "${1:-}" = "resume" ] && signal=CONT
for pidfile in experiments/campaign/*.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill -0 "$pid" 2>/dev/null && kill -"$signal" -- "-$pid" && echo "lane $(basename "$pidfile" .pid): SIG$signal"
done
