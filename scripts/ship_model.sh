#!/usr/bin/env bash
# Ship a trained GRACE run as the built-in model (resources/models/grace-neu-det.*), with the numbers its card and
# tests read: the checkpoint, `grace val --json` on the recorded split, the ONNX and OpenVINO exports (heatmap range
# calibrated, pixel scale measured), and the recall on the demo and held-out images that the card's floors follow.
#
#   bash scripts/ship_model.sh experiments/ship100/runs/grace-seed0
#
# Then update resources/models/MODEL_CARD.md (the printed numbers), run the suite, and re-take the screenshots.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
RUN=${1:?usage: $0 RUN_DIR (holding weights/best.pt)}
DATA=${DATA:-experiments/neu-det/data.yaml}
MODELS=resources/models
GRACE=.venv/bin/grace
[ -f "$RUN/weights/best.pt" ] || { echo "$RUN/weights/best.pt: no such checkpoint" >&2; exit 2; }
[ -f "$DATA" ] || { echo "$DATA: import NEU-DET first (scripts/training_campaign.sh start does)" >&2; exit 2; }

cp "$RUN/weights/best.pt" "$MODELS/grace-neu-det.pt"
rm -rf "$MODELS/grace-neu-det.onnx" "$MODELS/grace-neu-det_openvino" "$MODELS"/grace-neu-det*.grace.json
"$GRACE" export --model "$MODELS/grace-neu-det.pt" --format onnx
"$GRACE" export --model "$MODELS/grace-neu-det.pt" --format openvino --half
"$GRACE" val --model "$MODELS/grace-neu-det.pt" --data "$DATA" --imgsz 224 --json "$MODELS/grace-neu-det.val.json"
.venv/bin/python scripts/ship_recall.py --data "$DATA"
echo "shipped $RUN: now edit $MODELS/MODEL_CARD.md and run the suite"
