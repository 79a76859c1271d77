#!/usr/bin/env bash
# Replay the training of the embedded models in assets/, exactly as they were shipped.
# Each shipped model has one recipe; this script runs it cycle by cycle. A cycle starts from the EMA weights
# of the cycle before (train.init_from) and lists the key=value settings it changes; everything else is the
# recipe. Every cycle resumes where it stopped. Training history and measured figures: docs/training/<model>.md.
#   bash scripts/train_embedded.sh          # both lanes, one after the other
#   bash scripts/train_embedded.sh depth    # lane 1: Palette pretraining -> DepthGen (13 cycles) -> Palette inpainting (4 cycles)
#   bash scripts/train_embedded.sh t2i      # lane 2: text-to-image (6 stages) + its layout bank -> regression baseline (6 cycles)
#   bash scripts/train_embedded.sh images   # lane 3: text-conditioned inpainting (from assets/t2i) and super-resolution
#   bash scripts/train_embedded.sh latent   # lane 4: the latent text-to-image and inpainting models (256-px renders)
# The Palette inpainting model is not shipped (assets/inpaint is the text-conditioned one); its cycles end in
# runs/inpaint-c4/pipeline, the benchmarks' comparison model (bench.outpainting --baseline, bench.inpainting --model).
# On 2 CPU cores run the two lanes side by side with one thread each (OMP_NUM_THREADS=1); lane 2's regression
# baseline waits for lane 1's pretraining. DepthGen and its regression baseline get the same budgets:
# 1600, 800, 900, 800, 1200 and 1200 steps.
#   STOP=N      stops the first DepthGen and regression cycles at step N (the schedule is unchanged)
#   EXTRA="k=v" adds key=value overrides to every cycle, e.g. EXTRA="train.batch_size=64"
# Recipes: configs/depthgen/{pretrain,finetune,regression,inpaint}.yaml, configs/models/t2i/{t2i,t2i_latent}.yaml and
# configs/models/{inpaint/inpaint,inpaint/inpaint_latent,sr/sr}.yaml. (assets/scene-classifier is a benchmark tool, made by bench.bench_t2i.)
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRA=${EXTRA:-}
STOP=${STOP:-}
lane=${1:-all}
# renders NAME [flag ...]: procedural train renders (Kinect-like depth) in data/procedural/NAME, unless already there
renders() {
  local out=data/procedural/$1; shift
  ls "$out"/shard-*.npz >/dev/null 2>&1 ||
    python3 -m depthgen.data.procedural --out "$out" --split train --sensor kinect --workers 2 "$@"
}
# link_mix OUT NAME ...: one shard folder OUT of links to every shard of data/procedural/NAME ..., in that order
link_mix() {
  local out=$1 i=0 name shard; shift
  mkdir -p "$out"
  for name in "$@"; do
    for shard in data/procedural/"$name"/shard-*.npz; do
      ln -sf "../$name/$(basename "$shard")" "$out/shard-$(printf %05d "$i").npz"
      i=$((i + 1))
    done
  done
}
# four_kinds SUFFIX SQUARE_START WIDE_START MIX: 10,000 square (64x64) and 10,000 4:3 (80x60, squashed to the square
# input with their K) renders, each plain and sim-to-real (sq-plainSUFFIX ...), linked into data/procedural/MIX
four_kinds() {
  local s=$1
  renders "sq-plain$s" --n 10000 --size 64x64 --start "$2" --realism off
  renders "sq-real$s" --n 10000 --size 64x64 --start "$2" --realism on
  renders "wide-plain$s" --n 10000 --size 80x60 --start "$3" --realism off
  renders "wide-real$s" --n 10000 --size 80x60 --start "$3" --realism on
  link_mix "data/procedural/$4" "sq-plain$s" "sq-real$s" "wide-plain$s" "wide-real$s"
}
data=data/procedural/train-64  # also the layout banks' images
renders train-64 --n 20000 --size 64x64
resume() { [ -e "$1/last" ] && echo --resume || true; }
stop() { [ -n "$STOP" ] && echo --max-steps "$STOP" || true; }
# cycle RECIPE RUN [key=value ...] [-- FLAG ...]: one cycle of configs/depthgen/RECIPE.yaml, written to runs/RUN
cycle() {
  local recipe=$1 run=$2; shift 2
  local sets=() flags=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do sets+=("$1"); shift; done
  [ $# -gt 0 ] && shift && flags=("$@")
  python3 -m depthgen.train --config "configs/depthgen/$recipe.yaml" train.output_dir="runs/$run" "${sets[@]}" \
    $EXTRA $(resume "runs/$run") "${flags[@]}"
}
wait_for() { until [ -e "runs/$1/last" ] && [ -d "runs/$1/pipeline" ]; do sleep 30; done; }
if [ "$lane" = all ] || [ "$lane" = depth ]; then
  # Palette pretraining (colorize, inpaint, uncrop, JPEG), shared by DepthGen, the baseline and inpainting
  cycle pretrain pretrain
  # DepthGen (assets/depthgen)
  cycle finetune finetune -- $(stop) --export runs/finetune/pipeline
  cycle finetune finetune-c2 diffusion.t_shift=3.0 train.init_from=runs/finetune train.warmup_steps=50 \
    train.max_steps=800 -- --export runs/finetune-c2/pipeline
  cycle finetune finetune-c3 diffusion.t_shift=3.0 diffusion.loss_reduction=image train.init_from=runs/finetune-c2 \
    train.warmup_steps=50 train.max_steps=900 -- --export runs/finetune-c3/pipeline
  cycle finetune finetune-c4 diffusion.t_shift=3.0 diffusion.loss_reduction=image train.init_from=runs/finetune-c3 \
    train.warmup_steps=50 train.max_steps=800 -- --export runs/finetune-c4/pipeline
  cycle finetune finetune-c5 diffusion.t_shift=3.0 diffusion.loss_reduction=image train.init_from=runs/finetune-c4 \
    train.lr=1.5e-4 train.warmup_steps=50 train.max_steps=1200 -- --export runs/finetune-c5/pipeline
  cycle finetune finetune-c6 diffusion.t_shift=3.0 diffusion.loss_reduction=image train.init_from=runs/finetune-c5 \
    train.lr=1.0e-4 train.warmup_steps=50 train.max_steps=1200 -- --export runs/finetune-c6/pipeline
  # cycle 7 (issues 20-21): the camera-aware recipe (canonical camera, FOV channel, crop / uncrop,
  # SI-log) at a CPU budget, on the plain renders plus as many sim-to-real renders (half the indoor ones framed close)
  renders train-64-real --n 20000 --size 64x64 --realism on
  link_mix data/procedural/mix-64 train-64 train-64-real  # read by the cycle below
  cycle depthgen_v2 finetune-c7 data.path=data/procedural/mix-64 train.batch_size=16 train.checkpoint_every=100 \
    train.keep_checkpoints=2 train.init_from=runs/finetune-c6 train.lr=1.0e-4 train.warmup_steps=50 \
    train.max_steps=2400 model.aspect_conditioning=false -- --export runs/finetune-c7/pipeline
  # cycles 8-10 (issue 20): square and 4:3 renders (80x60, squashed to the square input with their
  # K); cycle 9 adds the aspect channel (the recipe's default since), cycle 10 runs it again on a new seed
  four_kinds "" 0 20000 mix8
  mix8=data/procedural/mix8
  cycle depthgen_v2 finetune-c8 data.path=$mix8 train.batch_size=16 train.checkpoint_every=100 \
    train.keep_checkpoints=2 train.init_from=runs/finetune-c7 train.lr=1.0e-4 train.warmup_steps=50 \
    train.max_steps=2400 model.aspect_conditioning=false -- --export runs/finetune-c8/pipeline
  cycle depthgen_v2 finetune-c9 data.path=$mix8 train.batch_size=16 train.checkpoint_every=100 \
    train.keep_checkpoints=2 train.init_from=runs/finetune-c8 train.lr=1.0e-4 train.warmup_steps=50 \
    train.max_steps=1500 -- --export runs/finetune-c9/pipeline
  cycle depthgen_v2 finetune-c10 data.path=$mix8 train.batch_size=16 train.checkpoint_every=100 \
    train.keep_checkpoints=2 train.init_from=runs/finetune-c9 train.lr=1.0e-4 train.warmup_steps=50 \
    train.max_steps=1500 train.seed=10 -- --export runs/finetune-c10/pipeline
  # cycle 11 (issue 20): 40,000 new renders of the same four kinds, cycle 10's recipe, seed 11
  four_kinds 2 40000 60000 mix9
  mix9=data/procedural/mix9
  cycle depthgen_v2 finetune-c11 data.path=$mix9 train.batch_size=16 train.checkpoint_every=100 \
    train.keep_checkpoints=2 train.init_from=runs/finetune-c10 train.lr=1.0e-4 train.warmup_steps=50 \
    train.max_steps=1500 train.seed=11 -- --export runs/finetune-c11/pipeline
  # cycle 12: 40,000 new renders, cycle 11's recipe, seed 12 (level with cycle 11 on val)
  four_kinds 3 80000 100000 mix10
  cycle depthgen_v2 finetune-c12 data.path=data/procedural/mix10 train.batch_size=16 train.checkpoint_every=100 \
    train.keep_checkpoints=2 train.init_from=runs/finetune-c11 train.lr=1.0e-4 train.warmup_steps=50 \
    train.max_steps=1500 train.seed=12 -- --export runs/finetune-c12/pipeline
  # cycle 13: annealing, a third of the learning rate, on 40,000 more new renders, seed 13
  four_kinds 4 120000 140000 mix11
  cycle depthgen_v2 finetune-c13 data.path=data/procedural/mix11 train.batch_size=16 train.checkpoint_every=100 \
    train.keep_checkpoints=2 train.init_from=runs/finetune-c12 train.lr=3.0e-5 train.warmup_steps=50 \
    train.max_steps=1500 train.seed=13 -- --export assets/depthgen
  # Palette inpainting (not shipped: the benchmarks' comparison model, runs/inpaint-c4/pipeline)
  cycle inpaint inpaint -- --export runs/inpaint/pipeline
  cycle inpaint inpaint-c2 train.init_from=runs/inpaint train.max_steps=500 -- --export runs/inpaint-c2/pipeline
  cycle inpaint inpaint-c3 diffusion.t_shift=3.0 train.init_from=runs/inpaint-c2 train.max_steps=600 \
    -- --export runs/inpaint-c3/pipeline
  cycle inpaint inpaint-c4 diffusion.t_shift=3.0 diffusion.loss_region=hole diffusion.loss_reduction=image \
    train.init_from=runs/inpaint-c3 train.max_steps=600 -- --export runs/inpaint-c4/pipeline
fi
if [ "$lane" = all ] || [ "$lane" = t2i ]; then
  # stage RUN [key=value ...] [-- FLAG ...]: one stage of configs/models/t2i/t2i.yaml, written to runs/RUN
  stage() {
    local run=$1; shift
    local sets=() flags=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do sets+=("$1"); shift; done
    [ $# -gt 0 ] && shift && flags=("$@")
    python3 -m text3d.models.t2i.train --config configs/models/t2i/t2i.yaml train.output_dir="runs/$run" \
      train.export_dir="runs/$run/pipeline" "${sets[@]}" $EXTRA $(resume "runs/$run") "${flags[@]}"
  }
  # text-to-image (assets/t2i): v-prediction, then x0 (stopped at step 852 of its 2400-step schedule), then
  # with pixel-coordinate input channels, then three more warmup + cosine cycles
  stage t2i
  stage t2i-c2 diffusion.prediction_type=sample train.init_from=runs/t2i/pipeline train.warmup_steps=50 \
    train.max_steps=2400 -- --max-steps 852
  stage t2i-c3 model.coord_channels=true diffusion.prediction_type=sample data.hflip=false \
    train.init_from=runs/t2i-c2/checkpoint-852 train.warmup_steps=50 train.max_steps=1600
  stage t2i-c4 model.coord_channels=true diffusion.prediction_type=sample data.hflip=false \
    train.init_from=runs/t2i-c3 train.lr=2.0e-4 train.warmup_steps=50 train.max_steps=1500
  stage t2i-c5 model.coord_channels=true diffusion.prediction_type=sample data.hflip=false \
    train.init_from=runs/t2i-c4 train.lr=1.5e-4 train.warmup_steps=50 train.max_steps=1000
  stage t2i-c6 model.coord_channels=true diffusion.prediction_type=sample data.hflip=false \
    train.init_from=runs/t2i-c5 train.lr=1.5e-4 train.warmup_steps=50 train.max_steps=3000 -- --export assets/t2i
  python3 -m text3d.models.t2i.layout_bank --pipeline assets/t2i --data $data --n 4000 --strength 0.5   # its layout bank
  # regression baseline (assets/regression): DepthGen's budgets, one pass at t = 0 (no timesteps to shift)
  wait_for pretrain
  cycle regression regression -- $(stop) --export runs/regression/pipeline
  cycle regression regression-c2 train.init_from=runs/regression train.warmup_steps=50 train.max_steps=800 \
    -- --export runs/regression-c2/pipeline
  cycle regression regression-c3 diffusion.loss_reduction=image train.init_from=runs/regression-c2 \
    train.warmup_steps=50 train.max_steps=900 -- --export runs/regression-c3/pipeline
  cycle regression regression-c4 diffusion.loss_reduction=image train.init_from=runs/regression-c3 \
    train.warmup_steps=50 train.max_steps=800 -- --export runs/regression-c4/pipeline
  cycle regression regression-c5 diffusion.loss_reduction=image train.init_from=runs/regression-c4 \
    train.lr=1.5e-4 train.warmup_steps=50 train.max_steps=1200 -- --export runs/regression-c5/pipeline
  cycle regression regression-c6 diffusion.loss_reduction=image train.init_from=runs/regression-c5 \
    train.lr=1.0e-4 train.warmup_steps=50 train.max_steps=1200 -- --export assets/regression
fi
if [ "$lane" = all ] || [ "$lane" = images ]; then
  # model MODULE RECIPE RUN [key=value ...] [-- FLAG ...]: one cycle of configs/models/MODULE/RECIPE.yaml, written to runs/RUN
  model() {
    local module=$1 recipe=$2 run=$3; shift 3
    local sets=() flags=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do sets+=("$1"); shift; done
    [ $# -gt 0 ] && shift && flags=("$@")
    python3 -m "text3d.models.$module.train" --config "configs/models/$module/$recipe.yaml" train.output_dir="runs/$run" \
      train.export_dir="runs/$run/pipeline" "${sets[@]}" $EXTRA $(resume "runs/$run") "${flags[@]}"
  }
  # text-conditioned inpainting (assets/inpaint), from the shipped text-to-image model; cycle 1 was
  # stopped at step 1410 of its 2000-step schedule
  model inpaint inpaint inpaint-text -- --max-steps 1410 --export assets/inpaint
  # its layout bank: the same 4000 scenes as assets/t2i's; new views start from a retrieved layout at 0.6
  python3 -m text3d.models.t2i.layout_bank --pipeline assets/inpaint --data $data --n 4000 --strength 0.6
  # super-resolution (assets/sr): 256-px renders; L1, stopped at step 418; then the texture term
  renders train-256 --n 2000 --size 256x256
  model sr sr sr -- --max-steps 418
  model sr sr sr-hf train.init_from=runs/sr hf_weight=1.0 train.lr=3.0e-4 train.warmup_steps=20 train.max_steps=1000 \
    -- --export assets/sr
fi
if [ "$lane" = all ] || [ "$lane" = latent ]; then
  # the latent image models (assets/t2i-latent, assets/inpaint-latent): 8,000 scenes at 256 px, encoded once by the
  # TAEF2 autoencoder; text-to-image with constant lr 2e-4 from random weights for 12,600 steps, then the inpainting
  # model from its weights at that step for 1,200 steps, then the sampling settings chosen on the development prompts
  renders train-256-8k --n 8000 --size 256x256
  [ -f data/latents/train-256.safetensors ] || python3 -m text3d.models.autoencoder.encode \
    --data data/procedural/train-256-8k --out data/latents/train-256.safetensors
  python3 -m text3d.models.t2i.train --config configs/models/t2i/t2i_latent.yaml $EXTRA \
    $(resume runs/t2i-latent) --max-steps 12600 --export assets/t2i-latent
  python3 -m text3d.models.inpaint.train --config configs/models/inpaint/inpaint_latent.yaml \
    train.init_from=runs/t2i-latent/checkpoint-12600 $EXTRA $(resume runs/inpaint-latent) --max-steps 1200 \
    --export assets/inpaint-latent
  # both carry the same caption prior (4,096 training captions); the inpainting's seam blend is 24 px at 256
  for m in t2i-latent inpaint-latent; do
    python3 -m text3d.models.t2i.caption_prior --pipeline assets/$m --captions data/latents/train-256.safetensors \
      --n 4096 --top-k 16 --strength 0.75
  done
  python3 -c "from text3d.models.loading import save_default; save_default('assets/inpaint-latent/model_index.json', 'seam_width', 24)"
fi
