#!/usr/bin/env bash
# Reproduce the embedded models in assets/ from scratch (CPU or GPU; every stage resumes where it stopped).
#   bash scripts/train_embedded.sh            # all stages, in order
#   bash scripts/train_embedded.sh depth      # lane 1: pretrain -> DepthGen fine-tune -> inpainting model
#   bash scripts/train_embedded.sh t2i        # lane 2: text-to-image model -> regression baseline
# On 2 CPU cores the two lanes run side by side with one thread each (OMP_NUM_THREADS=1), which measured
# ~2.3 s per step per lane against ~1.6 s per step for one run on both threads (40% more steps an hour).
# The shipped DepthGen model and its regression baseline were both stopped at STOP=1000 steps of the
# finetune recipe's 1600-step cosine schedule (equal budgets; the CPU time ran out). Each other recipe's
# train.max_steps is its budget. Pass extra key=value overrides through EXTRA, e.g.
#   EXTRA="train.batch_size=64" bash scripts/train_embedded.sh
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRA=${EXTRA:-}
STOP=${STOP:-1000}
lane=${1:-all}
data=data/procedural/train-64
if ! ls $data/shard-*.npz >/dev/null 2>&1; then
  python3 -m depthgen.data.procedural --out $data --n 20000 --size 64x64 --split train --sensor kinect --workers 2
fi
resume() { [ -e "$1/last" ] && echo --resume || true; }
train() { python3 -m depthgen.train --config "configs/depthgen/$1.yaml" $EXTRA $(resume "runs/$1") "${@:2}"; }
wait_for() { until [ -e "runs/$1/last" ] && [ -d "runs/$1/pipeline" ]; do sleep 30; done; }
if [ "$lane" = all ] || [ "$lane" = depth ]; then
  train pretrain                                  # 1. Palette pre-training (colorize, inpaint, uncrop, jpeg)
  train finetune --max-steps $STOP --export assets/depthgen   # 2. DepthGen: RGB -> sensor depth (L1, infilling, SUD)
  train inpaint --export assets/inpaint           # 3. inpainting fine-tuned on disocclusion-shaped holes
fi
if [ "$lane" = all ] || [ "$lane" = t2i ]; then
  python3 -m text3d.t2i.train --config configs/t2i/t2i.yaml $EXTRA $(resume runs/t2i) --export assets/t2i
  wait_for pretrain                               # the baseline starts from the same pretrained weights
  train regression --max-steps $STOP --export assets/regression   # 4. baseline: same network and budget
fi
