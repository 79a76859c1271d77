#!/usr/bin/env bash
# Train DepthGen v2 and its regression baseline (same data, settings and budget) on a GPU machine, in calls
# that each fit a time limit: run the same command again until it says "all done". Every call resumes where
# the last one stopped (shards that exist are kept; training continues from the newest checkpoint).
#   bash scripts/train_gpu.sh WORK [WEIGHTS]
#     WORK     state that persists between calls: WORK/data (training shards), WORK/runs/<run> (checkpoints)
#     WEIGHTS  where the finished pipelines go: WEIGHTS/<run> (default WORK/weights), and WEIGHTS/eval/<run>-*
#              (procedural test split scores, when EVAL_N > 0)
#   exit 0: all done; 3: the time ran out, run it again; anything else: the failing command's exit code.
# Runs (RUNS): depthgen_v2 = configs/depthgen/depthgen_v2.yaml; regression_v2 = the same recipe as the
# one-pass regression baseline (stage=regression, no SUD / timestep shift), warm-started from assets/regression.
# Settings (environment):
#   MINUTES=9           wall-clock budget of this call; a training call gets the time left, then SIGTERM
#                       (the trainer checkpoints and exits 130)
#   RUNS="depthgen_v2 regression_v2"
#   N=50000 SIZE=64x64 SENSOR=kinect REALISM=on WORKERS=$(nproc)   the shards (python -m depthgen.data.procedural)
#   STEPS=              train.max_steps for every run (default: the recipe's)
#   CHUNK=              also stop each training call after this many steps (--max-steps; exercises resume)
#   PRECISION=bf16 DATA_WORKERS=8   train.mixed_precision and data.num_workers
#   EXTRA="k=v ..."     more overrides for every run (the CPU rehearsal: model.preset=tiny ...)
#   EVAL_N=200          score each finished run on EVAL_N indoor and EVAL_N outdoor procedural test scenes
#                       (4 samples; depthgen.evaluate assumes the default 60-degree FOV); 0 skips
#   GPUS=1              processes: GPUS > 1 trains with accelerate launch --multi_gpu --num_processes GPUS
# The paper's recipes (docs/training/depthgen.md, "The paper's recipes"): RUNS="paper_pretrain paper_nyu paper_kitti"
#   (each fine-tune starts from WORK/runs/paper_pretrain, so list paper_pretrain first), with the dataset roots
#   NYU_ROOT     sync/ + $NYU_TRAIN_LIST (nyudepthv2_train_files_with_gt.txt) + nyu_depth_v2_labeled.mat, splits.mat
#   KITTI_ROOT   raw/ + gt/ + $KITTI_TRAIN_LIST, $KITTI_TEST_LIST (eigen_{train,test}_files_with_gt.txt)
#   PHOTOS_ROOT  photographs for pre-training (optional); pre-training mixes the roots that are set with the shards
#   for example: RUNS="paper_pretrain paper_nyu" NYU_ROOT=/data/nyu GPUS=8 SIZE=320x240 bash scripts/train_gpu.sh WORK
# The latent image models (docs/training/t2i.md): RUNS="t2i_latent inpaint_latent" renders LATENT_N=50000 captioned
#   scenes at 256x256 (LATENT_SIZE), encodes them once with assets/autoencoder, trains the latent text-to-image
#   model (configs/models/t2i/t2i_latent.yaml), then the latent inpainting model from its weights
#   (configs/models/inpaint/inpaint_latent.yaml); STEPS, CHUNK, PRECISION and EXTRA apply as to the depth runs.
# The CPU rehearsal (tests/depthgen/test_train_gpu_script.py) runs all of it with N=4, STEPS=2, CHUNK=1.
# On the device machine (nothing outside it, a fresh clone each time it is started), for example:
#   bash scripts/train_gpu.sh runs/gpu "$OUT/weights"     # repeat while it exits 3, calls back to back
set -uo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: bash scripts/train_gpu.sh WORK [WEIGHTS]" >&2; exit 2; }
WORK=$1
WEIGHTS=${2:-$WORK/weights}
MINUTES=${MINUTES:-9}
RUNS=${RUNS:-"depthgen_v2 regression_v2"}
N=${N:-50000}
SIZE=${SIZE:-64x64}
SENSOR=${SENSOR:-kinect}
REALISM=${REALISM:-on}
WORKERS=${WORKERS:-$(nproc)}
STEPS=${STEPS:-}
CHUNK=${CHUNK:-}
PRECISION=${PRECISION:-bf16}
DATA_WORKERS=${DATA_WORKERS:-8}
EXTRA=${EXTRA:-}
EVAL_N=${EVAL_N:-200}
PY=${PYTHON:-python3}
GPUS=${GPUS:-1}
NYU_ROOT=${NYU_ROOT:-}
KITTI_ROOT=${KITTI_ROOT:-}
PHOTOS_ROOT=${PHOTOS_ROOT:-}
NYU_TRAIN_LIST=${NYU_TRAIN_LIST:-nyudepthv2_train_files_with_gt.txt}
KITTI_TRAIN_LIST=${KITTI_TRAIN_LIST:-eigen_train_files_with_gt.txt}
KITTI_TEST_LIST=${KITTI_TEST_LIST:-eigen_test_files_with_gt.txt}
LATENT_N=${LATENT_N:-50000}
LATENT_SIZE=${LATENT_SIZE:-256x256}
recipe() {
  case $1 in
    paper_*) echo "configs/depthgen/$1.yaml" ;;
    t2i_latent) echo configs/models/t2i/t2i_latent.yaml ;;
    inpaint_latent) echo configs/models/inpaint/inpaint_latent.yaml ;;
    *) echo configs/depthgen/depthgen_v2.yaml ;;
  esac
}
module() { case $1 in t2i_latent) echo text3d.models.t2i.train ;; inpaint_latent) echo text3d.models.inpaint.train ;;
                      *) echo depthgen.train ;; esac; }
is_latent() { case $1 in *_latent) return 0 ;; *) return 1 ;; esac; }
train_cmd() {  # the training command of run $1: python -m MODULE, or accelerate launch with GPUS > 1
  if [ "$GPUS" -gt 1 ]; then echo "$PY -m accelerate.commands.launch --multi_gpu --num_processes $GPUS -m $(module "$1")"
  else echo "$PY -m $(module "$1")"; fi
}
deadline=$(( $(date +%s) + MINUTES * 60 ))
left() { echo $(( deadline - $(date +%s) )); }
out_of_time() { echo "time is up for this call ($MINUTES min); run the same command again to continue"; exit 3; }
need() { [ "$(left)" -ge "$1" ] || out_of_time; }
# run_limited CMD...: CMD with SIGTERM when this call's time is over (its own children are left alone, so
# DataLoader workers do not die before the trainer's checkpoint); 124/130/137 mean "stopped for time"
run_limited() { timeout --foreground --signal=TERM --kill-after=120 "$(left)" "$@"; }

overrides() {  # the key=value settings of run $1
  case $1 in
    depthgen_v2) echo "" ;;
    regression_v2) echo "name=regression_v2 stage=regression diffusion.sud_prob=0.0 diffusion.t_shift=1.0" \
                        "train.init_from=assets/regression" ;;
    paper_pretrain)
      local mix="procedural:$data@0.2"
      [ -n "$PHOTOS_ROOT" ] && mix="images:$PHOTOS_ROOT@0.5,$mix"
      [ -n "$NYU_ROOT" ] && mix="$mix,nyu:$NYU_ROOT/sync:$NYU_ROOT/$NYU_TRAIN_LIST@0.15"
      [ -n "$KITTI_ROOT" ] && mix="$mix,kitti:$KITTI_ROOT/raw:$KITTI_ROOT/gt:$KITTI_ROOT/$KITTI_TRAIN_LIST@0.15"
      echo "data.mix=$mix" ;;
    paper_nyu)
      [ -n "$NYU_ROOT" ] || { echo "run paper_nyu needs NYU_ROOT" >&2; return 2; }
      echo "data.spec=nyu:$NYU_ROOT/sync:$NYU_ROOT/$NYU_TRAIN_LIST train.init_from=$WORK/runs/paper_pretrain" \
           "train.val_data=nyu:$NYU_ROOT/nyu_depth_v2_labeled.mat:$NYU_ROOT/splits.mat:test" ;;
    paper_kitti)
      [ -n "$KITTI_ROOT" ] || { echo "run paper_kitti needs KITTI_ROOT" >&2; return 2; }
      echo "data.spec=kitti:$KITTI_ROOT/raw:$KITTI_ROOT/gt:$KITTI_ROOT/$KITTI_TRAIN_LIST" \
           "train.init_from=$WORK/runs/paper_pretrain" \
           "train.val_data=kitti:$KITTI_ROOT/raw:$KITTI_ROOT/gt:$KITTI_ROOT/$KITTI_TEST_LIST" ;;
    t2i_latent) echo "" ;;
    inpaint_latent) echo "train.init_from=$WORK/runs/t2i_latent" ;;
    *) echo "unknown run $1 (choose from depthgen_v2 regression_v2 paper_pretrain paper_nyu paper_kitti" \
            "t2i_latent inpaint_latent)" >&2; return 2 ;;
  esac
}

mkdir -p "$WORK" "$WEIGHTS" || exit 2
data=$WORK/data/train-${SIZE}-realism-${REALISM//,/}
renders=$WORK/data/captioned-$LATENT_SIZE
latents=$WORK/data/latents-$LATENT_SIZE.safetensors
depth_runs=0 latent_runs=0
for run in $RUNS; do if is_latent "$run"; then latent_runs=1; else depth_runs=1; fi; done
# --- 1. the training shards (resumable: finished shards are kept) -----------------------------------------
if [ "$depth_runs" = 1 ] && [ ! -e "$data/DONE" ]; then
  need 30
  echo "writing $N procedural samples ($SIZE, realism $REALISM) to $data"
  run_limited $PY -m depthgen.data.procedural --out "$data" --n "$N" --size "$SIZE" --split train \
    --sensor "$SENSOR" --realism "$REALISM" --workers "$WORKERS" --quiet
  rc=$?
  case $rc in 0) touch "$data/DONE" ;; 124|137|143) out_of_time ;; *) exit $rc ;; esac
fi
if [ "$latent_runs" = 1 ] && [ ! -e "$latents" ]; then  # captioned renders, then their autoencoder latents
  if [ ! -e "$renders/DONE" ]; then
    need 30
    echo "writing $LATENT_N captioned procedural scenes ($LATENT_SIZE) to $renders"
    run_limited $PY -m depthgen.data.procedural --out "$renders" --n "$LATENT_N" --size "$LATENT_SIZE" --split train \
      --workers "$WORKERS" --quiet
    rc=$?
    case $rc in 0) touch "$renders/DONE" ;; 124|137|143) out_of_time ;; *) exit $rc ;; esac
  fi
  need 30
  echo "encoding $renders to $latents"
  run_limited $PY -m text3d.models.autoencoder.encode --data "$renders" --out "$latents"
  rc=$?
  case $rc in 0) ;; 124|137|143) out_of_time ;; *) exit $rc ;; esac
fi
# --- 2. training, in calls that stop for time and resume --------------------------------------------------
current_step() { local f=$1/last; [ -e "$f" ] && sed 's/.*checkpoint-//' "$f" || echo 0; }
for run in $RUNS; do
  sets=$(overrides "$run") || exit 2
  runs_dir=$WORK/runs/$run
  while [ ! -e "$WEIGHTS/$run/model_index.json" ]; do
    need 60
    args=(--config "$(recipe "$run")" train.output_dir="$runs_dir" train.export_dir="$WEIGHTS/$run"
          train.mixed_precision="'$PRECISION'")  # quoted: YAML reads no as false
    if is_latent "$run"; then args+=(data.path="$latents"); else args+=(data.path="$data" data.num_workers="$DATA_WORKERS"); fi
    [ -n "$STEPS" ] && args+=(train.max_steps="$STEPS")
    # shellcheck disable=SC2206
    args+=($sets $EXTRA --no-progress)
    [ -e "$runs_dir/last" ] && args+=(--resume)
    [ -n "$CHUNK" ] && args+=(--max-steps $(( $(current_step "$runs_dir") + CHUNK )))
    echo "training $run from step $(current_step "$runs_dir") ($(left) s left in this call)"
    # shellcheck disable=SC2046
    run_limited $(train_cmd "$run") "${args[@]}"
    rc=$?
    case $rc in 0) ;; 124|130|137|143) out_of_time ;; *) exit $rc ;; esac
  done
  echo "$run: weights in $WEIGHTS/$run"
done
# --- 3. scores on the procedural test split (metric depth, default FOV) -----------------------------------
if [ "$EVAL_N" -gt 0 ]; then
  for run in $RUNS; do
    # the paper's runs validate on their real test splits while training; the image models: bench.bench_t2i
    case $run in paper_*|*_latent) continue ;; esac
    for part in indoor outdoor; do
      dest=$WEIGHTS/eval/$run-$part
      [ -e "$dest/DONE" ] && continue
      need 30
      run_limited $PY -m depthgen.evaluate --model "$WEIGHTS/$run" --data "procedural:test:$part:$EVAL_N" \
        --samples 1 4 --out "$dest" --quiet
      rc=$?
      case $rc in 0) touch "$dest/DONE" ;; 124|137|143) out_of_time ;; *) exit $rc ;; esac
    done
  done
fi
echo "all done: weights in $WEIGHTS"
