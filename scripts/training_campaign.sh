#!/usr/bin/env bash
# The NEU-DET training campaign of docs/results.md (issue 15): a short-budget recipe study with its factor arms, and
# the converged 3-seed comparison. Two lanes train side by side, one CPU thread each (two 1-thread runs get ~25 %
# more done on a 2-core machine than one 2-thread run), niced so interactive work keeps priority.
#
#   bash scripts/training_campaign.sh            # start both lanes in the background (or resume them)
#   THREADS=2 bash scripts/training_campaign.sh start converged   # one lane only, with both cores
#   THREADS=2 bash scripts/training_campaign.sh start ship        # 100-epoch GRACE-n (shipped), then YOLO11n, seed 0
#   THREADS=2 bash scripts/training_campaign.sh start refine      # 80 more epochs on the 100-epoch GRACE-n (shipped)
#   bash scripts/training_campaign.sh status     # what each lane is doing
#   bash scripts/training_campaign.sh stop       # stop both lanes (every run resumes from its last.pt)
#   bash scripts/training_campaign.sh keep       # copy finished runs' tables to docs/results/campaign (lanes do it too)
#
# Every step is `grace experiment ablation`, which skips finished runs and resumes unfinished ones, so running this
# script again continues where it stopped. Runs and logs live in experiments/ (git-ignored).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT=experiments
DATA=$OUT/neu-det/data.yaml
LOGS=$OUT/campaign
KEEP=docs/results/campaign
GRACE=.venv/bin/grace
THREADS=${THREADS:-1}  # torch threads per run; a lane started with THREADS=2 keeps that for its whole queue

study() {  # study NAME [extra ablation arguments]: GRACE-n-scale settings at the short budget, 30 epochs
    local name=$1
    shift
    "$GRACE" experiment ablation --data "$DATA" --scale n --epochs 30 --imgsz 224 --batch 16 --workers 0 \
        --threads "$THREADS" --out "$OUT/study30/$name" "$@"
    keep
}

converged() {  # converged ARM SEED: the chosen recipe to convergence (150 epochs, early stop after 50 flat ones)
    "$GRACE" experiment ablation --data "$DATA" --scale n --epochs 150 --imgsz 224 --batch 16 --workers 0 \
        --threads "$THREADS" --set patience=50 --out "$OUT/converged" --arms "$1" --seeds "$2"
    keep
}

ship() {  # ship ARM: 100 epochs, no early stop (~60 min on a bf16 CPU) — what fits a session whose machine will not
    # keep a 150-epoch run; GRACE is the model to ship, YOLO11 its baseline at the same budget
    "$GRACE" experiment ablation --data "$DATA" --scale n --epochs 100 --imgsz 224 --batch 16 --workers 0 \
        --threads "$THREADS" --out "$OUT/ship100" --arms "$1" --seeds 0
    keep
}

refine() {  # the 100-epoch GRACE-n of commit 58c00de, 80 more epochs from a warm restart (AdamW, lr0 5e-4 falling
    # linearly to 1 %, one warm-up epoch): what a session can add to a schedule that ended while val mAP still rose
    local run=$OUT/stage2/grace-n-100+80 start=$OUT/stage2/grace-n-100.pt
    if [ -f "$run/weights/last.pt" ]; then
        "$GRACE" train --resume "$run/weights/last.pt" --threads "$THREADS"
        return
    fi
    mkdir -p "$OUT/stage2"
    git show 58c00de:resources/models/grace-neu-det.pt >"$start"
    "$GRACE" train --data "$DATA" --model grace-n --weights "$start" --epochs 80 --imgsz 224 --batch 16 --workers 0 \
        --threads "$THREADS" --seed 0 --set optimizer=AdamW --set lr0=0.0005 --set warmup_epochs=1 \
        --project "$OUT/stage2" --name grace-n-100+80
}

keep() {  # copy every finished run's tables into docs/results/campaign (tracked: experiments/ may not survive)
    local folder name
    for folder in "$OUT"/converged "$OUT"/ship100 "$OUT"/study30/*; do
        [ -f "$folder/runs.csv" ] || continue
        name=$(basename "$folder")
        case $name in converged | ship100) ;; *) name="study30-$name" ;; esac
        mkdir -p "$KEEP/$name"
        cp "$folder"/runs.csv "$folder"/ablation.md "$KEEP/$name/"
        for run in "$folder"/runs/*/val.json; do
            [ -f "$run" ] || continue
            cp "$run" "$KEEP/$name/$(basename "$(dirname "$run")").val.json"
            cp "$(dirname "$run")/results.csv" "$KEEP/$name/$(basename "$(dirname "$run")").results.csv" 2>/dev/null || true
        done
    done
    if [ -f "$OUT/stage2/grace-n-100+80/results.csv" ]; then  # the refine run (grace train, not an ablation)
        mkdir -p "$KEEP/refine"
        cp "$OUT/stage2/grace-n-100+80/results.csv" "$OUT/stage2/grace-n-100+80/args.yaml" "$KEEP/refine/"
    fi
}

lane_converged() {
    converged grace 0
    converged yolo11 0
    converged grace 1
    converged yolo11 1
    converged grace 2
    converged yolo11 2
}

lane_ship() {
    ship grace
    ship yolo11
}

lane_refine() {
    refine
}

lane_study() {
    # Sampler and block factors first (seed 0, then seed 1), bf16-vs-fp32 parity, then the recipe settings.
    study base --arms yolo11 grace --seeds 0 1
    study base --arms lite-fen grace-mild grace-bce --seeds 0
    study fp32 --arms grace --seeds 0 --precision fp32
    study base --arms lite-fen grace-mild grace-bce dscbsm --seeds 1
    study base --arms dscbsm --seeds 0
    study fp32 --arms grace --seeds 1 --precision fp32
    study sgd --arms grace --seeds 0 1 --set optimizer=SGD --set lr0=0.01
    study steel --arms grace --seeds 0 1 --set hsv_h=0 --set hsv_s=0 --set hsv_v=0 --set flipud=0.5
    study nomosaic --arms grace --seeds 0 1 --set mosaic=0
    study imgsz320 --arms grace --seeds 0 1 --imgsz 320
}

start_lane() {  # start_lane NAME: run lane_NAME in the background unless it is already running
    local name=$1 pidfile=$LOGS/$1.pid
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        echo "lane $name already running (pid $(cat "$pidfile"))"
        return
    fi
    THREADS=$THREADS setsid nohup nice -n 10 bash "$0" lane "$name" >>"$LOGS/$name.log" 2>&1 </dev/null &
    echo $! >"$pidfile"
    echo "lane $name started (pid $!, log $LOGS/$name.log)"
}

case "${1:-start}" in
start)
    bash scripts/setup-venv.sh
    [ -f "$DATA" ] || "$GRACE" data import neu-det ../shared/datasets/NEU-DET "$OUT/neu-det" --split 0.8,0.2 --seed 0
    mkdir -p "$LOGS"
    shift $(($# > 0 ? 1 : 0))
    for lane in "${@:-converged study}"; do
        for name in $lane; do start_lane "$name"; done
    done
    ;;
lane) "lane_$2" && echo "lane $2: all done" ;;
keep) keep && echo "finished runs' tables copied to $KEEP" ;;
status)
    for name in converged ship refine study; do
        pidfile=$LOGS/$name.pid
        state=stopped
        [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null && state="running (pid $(cat "$pidfile"))"
        echo "lane $name: $state; last lines:"
        grep -a -E "^\[|^==|all done" "$LOGS/$name.log" 2>/dev/null | tail -n 2 | sed 's/^/    /'
    done
    ;;
stop)
    for name in converged ship refine study; do
        pidfile=$LOGS/$name.pid
        [ -f "$pidfile" ] && kill -TERM -- "-$(cat "$pidfile")" 2>/dev/null && echo "lane $name stopped" || true
    done
    ;;
*) echo "usage: $0 [start [LANE...]|status|stop|keep]" >&2 && exit 2 ;;
esac
