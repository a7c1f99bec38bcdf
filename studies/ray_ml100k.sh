#!/usr/bin/env bash
# Ray Tune on ml-100k with the same budget for ELECRec and SASRec+: 8 random trials each over the
# learning rate and the generator's dropouts (ELECRec also sample_ratio and dis_loss_weight),
# ASHA stopping on validation NDCG@20 (grace 10 validations, reduction 4), two trials at a time on
# 2 CPUs; the best trial of each is tested once, then the tuned pair is compared on test.
#   bash studies/ray_ml100k.sh [WORK_DIR]     (trial folders go to WORK_DIR, default /tmp)
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-/tmp}/ray_ml100k"
out=studies/results/ray_ml100k
mkdir -p "$out"
search() {  # model, params file
  /usr/bin/time -f "%e" -o "$out/$1.seconds" python run_hyper.py --tool=Ray --algo=random \
    --max_evals=8 --cpus_per_trial=1 --grace_period=10 --model="$1" --dataset=ml-100k \
    --params_file="$2" --output_dir="$work/$1" --show_progress=False | tail -1 > "$out/$1.json"
  cp "$work/$1/trials.csv" "$out/$1_trials.csv"
}
search ELECRec studies/ray_ml100k_elecrec.hyper
search SASRecPlus studies/ray_ml100k.hyper
checkpoint() { python -c "import json, sys; print(json.load(open(sys.argv[1]))['checkpoint'])" "$1"; }
python -m recbole_elecrec.compare "$(checkpoint "$out/ELECRec.json")" \
  "$(checkpoint "$out/SASRecPlus.json")" > "$out/compare.txt"
