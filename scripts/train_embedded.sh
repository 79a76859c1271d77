#!/usr/bin/env bash
# Reproduce the embedded models in assets/ from scratch (CPU or GPU; every stage resumes where it stopped).
#   bash scripts/train_embedded.sh            # all stages, in order
#   bash scripts/train_embedded.sh depth      # lane 1: pretrain -> DepthGen fine-tune (6 cycles) -> inpainting model (4 cycles)
#   bash scripts/train_embedded.sh t2i        # lane 2: text-to-image model (v, x0, + coordinates, two more cycles) + its layout bank -> regression baseline (4 cycles)
# On 2 CPU cores the two lanes run side by side with one thread each (OMP_NUM_THREADS=1), which measured
# ~2.3 s per step per lane against ~1.6 s per step for one run on both threads (40% more steps an hour).
# Each recipe's train.max_steps is its budget; the DepthGen model and its regression baseline get the same
# ones (1600 steps, then a second cycle of 800, a third of 900 and a fourth of 800). STOP=N stops both first cycles at step N instead. Pass extra key=value overrides
# through EXTRA, e.g.
#   EXTRA="train.batch_size=64" bash scripts/train_embedded.sh
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRA=${EXTRA:-}
STOP=${STOP:-}
lane=${1:-all}
data=data/procedural/train-64
if ! ls $data/shard-*.npz >/dev/null 2>&1; then
  python3 -m depthgen.data.procedural --out $data --n 20000 --size 64x64 --split train --sensor kinect --workers 2
fi
resume() { [ -e "$1/last" ] && echo --resume || true; }
stop() { [ -n "$STOP" ] && echo --max-steps "$STOP" || true; }
train() { python3 -m depthgen.train --config "configs/depthgen/$1.yaml" $EXTRA $(resume "runs/$1") "${@:2}"; }
wait_for() { until [ -e "runs/$1/last" ] && [ -d "runs/$1/pipeline" ]; do sleep 30; done; }
if [ "$lane" = all ] || [ "$lane" = depth ]; then
  train pretrain                                  # 1. Palette pre-training (colorize, inpaint, uncrop, jpeg)
  train finetune $(stop) --export runs/finetune/pipeline   # 2. DepthGen: RGB -> sensor depth (L1, infilling, SUD),
  train finetune_long --export runs/finetune_long/pipeline   #    then a second cycle with timesteps nearer pure noise,
  train finetune_c3 --export runs/finetune_c3/pipeline   #    then a third with the loss averaged per image,
  train finetune_c4 --export runs/finetune_c4/pipeline   #    then a fourth cycle of the same,
  train finetune_c5 --export runs/finetune_c5/pipeline   #    a fifth and a sixth at lower peak learning rates
  train finetune_c6 --export assets/depthgen
  train inpaint --export runs/inpaint/pipeline    # 3. inpainting fine-tuned on disocclusion-shaped holes,
  train inpaint_long --export runs/inpaint_long/pipeline   #    then a second warmup + cosine cycle from those weights,
  train inpaint_shift --export runs/inpaint_shift/pipeline   #    then a third with timesteps nearer pure noise,
  train inpaint_hole --export assets/inpaint      #    then a fourth with the loss only inside the hole
  # Tried and not shipped (python -m bench.inpainting / bench.reconstruction; assets/README.md):
  # configs/depthgen/inpaint_hole2.yaml (500 more steps of the same): 19.27 / 18.54 dB against 19.40 / 18.52;
  # configs/depthgen/inpaint_telea.yaml, inpaint_telea2.yaml, inpaint_telea3.yaml (holes pre-filled by Telea, then
  # also camera-turn masks): better in small holes (21.06 / 21.92 dB in one step), worse text-to-3D geometry;
  # configs/depthgen/inpaint_band.yaml (Telea only near the hole's edge): +0.2 / +0.4 dB on val, still below
  # Telea, and worse Chamfer distance.
fi
if [ "$lane" = all ] || [ "$lane" = t2i ]; then
  t2i() { python3 -m text3d.t2i.train --config "configs/t2i/$1.yaml" $EXTRA $(resume "runs/$2") "${@:3}"; }
  t2i t2i t2i --export runs/t2i/pipeline          # 5. text-to-image, v-prediction
  t2i t2i_x0 t2i-x0 --max-steps 852 --export runs/t2i-x0/pipeline   #    then continued as an x0 predictor
  t2i t2i_coord t2i-coord --export runs/t2i-coord/pipeline   #    then given pixel-coordinate input channels,
  t2i t2i_c4 t2i-c4 --export runs/t2i-c4/pipeline   #    then a fourth warmup + cosine cycle,
  t2i t2i_c5 t2i-c5 --export runs/t2i-c5/pipeline   #    and a fifth,
  t2i t2i_c6 t2i-c6 --export assets/t2i           #    and a sixth
  # configs/t2i/t2i_shift.yaml (300 more steps with t_shift 3) was tried and not shipped: 25.0% alignment
  # against 28.1% for the stage-3 model (python -m bench.bench_t2i)
  python3 -m text3d.t2i.layout_bank --pipeline assets/t2i --data $data --n 4000 --strength 0.5   # its layout bank
  wait_for pretrain                               # the baseline starts from the same pretrained weights
  train regression $(stop) --export runs/regression/pipeline   # 4. baseline: same network and budgets,
  train regression_long --export runs/regression_long/pipeline   #    its second and third cycles as long as DepthGen's
  train regression_c3 --export runs/regression_c3/pipeline
  train regression_c4 --export runs/regression_c4/pipeline
  train regression_c5 --export runs/regression_c5/pipeline
  train regression_c6 --export assets/regression
fi
