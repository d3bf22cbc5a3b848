#!/usr/bin/env bash
# Smoke test of data-parallel training on a CUDA machine: NCCL, SyncBatchNorm and AMP,
# a few steps of the tiny network on synthetic crops (no clinical data), through both
# entry points. Run from anywhere:
#
#   models/training/scripts/gpu-smoke.sh            # all GPUs of this machine (at most 8)
#   NPROC=2 PYTHON=/opt/venv/bin/python models/training/scripts/gpu-smoke.sh
#   TORCHRUN_ARGS="--redirects 2 --tee 1 --log_dir /tmp/smoke-logs" ...   # Debian torch 1.13 on Python 3.11
#
# It checks that the runs finish and write their outputs, and prints how far the N-rank
# weights are from one process's: with AMP (float16), cuDNN's kernel choices and the tiny
# config's AdamW they differ (0.03 in a gloo run of this script on CPU); the exact
# comparison is the CPU test, tests/test_distributed.py.
set -euo pipefail

PYTHON=${PYTHON:-python3}
TRAINING_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$TRAINING_DIR"

if ! gpus=$("$PYTHON" -c 'import torch; print(torch.cuda.device_count() if torch.cuda.is_available() else 0)'); then
    echo "gpu-smoke: $PYTHON cannot import torch; set PYTHON to the interpreter that has it." >&2
    exit 2
fi
if [ "$gpus" -eq 0 ]; then
    echo "gpu-smoke: no CUDA GPU visible to $PYTHON (torch.cuda.is_available() is False); nothing to test here." >&2
    echo "gpu-smoke: on CPU, run the gloo tests instead: $PYTHON -m unittest tests.test_distributed" >&2
    exit 2
fi
nproc=${NPROC:-$((gpus < 8 ? gpus : 8))}
if [ "$nproc" -lt 2 ]; then
    echo "gpu-smoke: $gpus GPU: runs one rank (CUDA + AMP only); NCCL and SyncBatchNorm need 2 GPUs or more." >&2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$PYTHON" -m facies_train.synthetic --out "$work/data" --patients 8,8,8,8 --photos 3 >/dev/null
cat >"$work/smoke.py" <<'EOF'
from configs.synthetic_tiny import arms, config as tiny  # noqa: F401 (arms: for the experiment)

config = dict(tiny, epochs=2, batch_size=16, amp=True, device="cuda")
EOF
# shellcheck disable=SC2206  # TORCHRUN_ARGS is split into words on purpose
run=(timeout 900 "$PYTHON" -m torch.distributed.run --standalone --nproc_per_node="$nproc" ${TORCHRUN_ARGS:-})

echo "== 1 process"
(cd "$work" && mkdir one && cd one && PYTHONPATH="$TRAINING_DIR" timeout 600 "$PYTHON" -m facies_train.train \
    --config "$work/smoke.py" --manifest "$work/data/manifest.csv" --final --out out)
echo "== $nproc ranks (facies_train.train --final)"
(cd "$work" && mkdir ddp && cd ddp && PYTHONPATH="$TRAINING_DIR" "${run[@]}" -m facies_train.train \
    --config "$work/smoke.py" --manifest "$work/data/manifest.csv" --final --out out --dist-timeout 120)
echo "== $nproc ranks (facies_train.experiment, one arm, 2 folds)"
(cd "$work" && mkdir study && cd study && PYTHONPATH="$TRAINING_DIR" "${run[@]}" -m facies_train.experiment \
    --config "$work/smoke.py" --manifest "$work/data/manifest.csv" --arms none_cosface --folds 2 --epochs 1 \
    --bootstrap 50 --out out --dist-timeout 120 >/dev/null)
test -s "$work/study/out/comparison.md" && test -s "$work/study/out/none_cosface/cv_report.json"

PYTHONPATH="$TRAINING_DIR" "$PYTHON" - "$work/one/out/final/backbone.pth" "$work/ddp/out/final/backbone.pth" <<'EOF'
import sys
import torch

a, b = (torch.load(p, map_location="cpu", weights_only=True) for p in sys.argv[1:])
assert a.keys() == b.keys(), "state_dict keys differ (SyncBatchNorm left in?)"
stats = ("running_mean", "running_var", "num_batches_tracked")
diff = max((a[k].float() - b[k].float()).abs().max().item() for k in a if not k.endswith(stats))
print(f"max |weight difference| {diff:.3g} between 1 process and the ranks (not 0 under AMP and AdamW)")
EOF
echo "gpu-smoke: ok ($nproc rank(s), NCCL $( [ "$nproc" -ge 2 ] && echo used || echo 'not used' ), AMP on)"
