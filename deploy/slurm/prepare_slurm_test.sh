#!/usr/bin/env bash
# deploy/slurm/prepare.sbatch on a real Slurm (Debian's munged, slurmctld and slurmd as a
# one-node cluster, deploy/slurm/testing/one_node_slurm.sh, torn down at the end):
#   1. Without --output the script refuses to start, saying why (exit status 2).
#   2. An array of 3 parts over the demo corpus (each file its own unit), then the merge as a
#      job depending on the array (afterok): the dataset equals a one-machine
#      `cloze prepare` of the same flags (inspect's whole report, the tokenizer's bytes;
#      data/prepare_part_test compares every record).
#   3. A merge submitted while a part is missing fails, naming the part.
# Needs Debian's slurmctld, slurmd, munge and slurm-client (deploy/setup.sh); says SKIP and
# passes without them. About 30 seconds.
set -uo pipefail
cloze=$(realpath "${CLOZE:-cli/cloze}")
vocab=$(realpath ../shared_data/vocab/bert-base-uncased-vocab.txt)
corpus=$(realpath corpus/demo)
work=$TEST_TMPDIR
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
source deploy/slurm/testing/one_node_slurm.sh
if ! one_node_slurm_available; then
  echo "SKIP: Slurm is not installed (Debian packages slurmctld slurmd munge slurm-client; deploy/setup.sh)"
  exit 0
fi
script=$(realpath deploy/slurm/prepare.sbatch)
flags=(--input="$corpus" --tokenizer="wordpiece:$vocab" --max_seq_length=64 --shards=2 --unit_bytes=1)
"$cloze" prepare "${flags[@]}" --output="$work/one" --threads=1 >"$work/one.log" 2>&1 ||
  { cat "$work/one.log"; fail "one-machine prepare"; }

one_node_slurm_start_for_test || exit 1

# --- 1. No output folder -----------------------------------------------------------------------
sbatch --wait --output="$work/no_output.out" "$script" --parts=3 --cloze="$cloze" >/dev/null 2>&1
status=$?
[ $status -eq 2 ] || fail "without --output: exit status $status, want 2"
grep -q "no output folder: give --output=DIR" "$work/no_output.out" || fail "without --output: $(cat "$work/no_output.out")"

# --- 2. Three parts as an array, the merge after them ------------------------------------------
out=$work/split
parts_job=$(sbatch --parsable --array=0-2 --cpus-per-task=1 --output="$work/part-%a.out" "$script" \
  --parts=3 --output="$out" --cloze="$cloze" -- "${flags[@]}")
merge_job=$(sbatch --parsable --dependency=afterok:"$parts_job" --output="$work/merge.out" "$script" \
  --parts=3 --output="$out" --cloze="$cloze")
echo "parts: job $parts_job, merge: job $merge_job"
deadline=$((SECONDS + 240))
state() { scontrol show job "$1" 2>/dev/null | tr ' ' '\n' | sed -n 's/^JobState=//p' | head -n 1; }
until [[ $(state "$merge_job") =~ ^(COMPLETED|FAILED|CANCELLED|TIMEOUT) ]] || [ "$SECONDS" -ge "$deadline" ]; do sleep 0.5; done
cat "$work"/part-*.out "$work/merge.out"
[ "$(state "$merge_job")" = COMPLETED ] || fail "the merge job is $(state "$merge_job")"
for i in 0 1 2; do
  grep -q "prepared part $i of 3 (units $i to $((i + 1)) of 3)" "$work/part-$i.out" || fail "array task $i did not build part $i"
done
grep -q "merged 3 parts into $out" "$work/merge.out" || fail "the merge job did not merge"
cmp -s "$work/one/vocab.txt" "$out/vocab.txt" || fail "the tokenizer files differ"
one=$("$cloze" inspect "$work/one" --examples=5 --verify 2>&1 | tail -n +2)
merged=$("$cloze" inspect "$out" --examples=5 --verify 2>&1 | tail -n +2)
[ -n "$one" ] && [ "$one" = "$merged" ] || fail "inspect reports differ: $(diff <(echo "$one") <(echo "$merged") | head -20)"

# --- 3. A merge with a part missing ------------------------------------------------------------
missing=$work/missing
sbatch --wait --array=0 --output="$work/missing-part.out" "$script" --parts=2 --output="$missing" \
  --cloze="$cloze" -- "${flags[@]}" >/dev/null 2>&1 || fail "part 0 of 2: $(cat "$work/missing-part.out")"
sbatch --wait --output="$work/missing-merge.out" "$script" --parts=2 --output="$missing" --cloze="$cloze" >/dev/null 2>&1
status=$?
[ $status -eq 1 ] || fail "merge with a part missing: exit status $status, want 1"
grep -q "part 1 of 2 is missing" "$work/missing-merge.out" || fail "the missing part is not named: $(cat "$work/missing-merge.out")"

[ "$failures" -eq 0 ] || _one_node_slurm_logs
one_node_slurm_stop
[ "$failures" -eq 0 ] && echo PASS || { echo "$failures failures"; exit 1; }
