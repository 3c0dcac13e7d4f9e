#!/bin/sh
# `make exec-cuda` compiles and links the cuda backend (cuBLAS + NCCL) where nvcc exists, and
# says it skips otherwise.  Without a GPU the CUDA stub fails cleanly (exit 2, one line naming
# the cause); with one, it validates a scaled t=1 layer in bf16.  Runs the same make the
# caller runs (BUILD, BIN and flags come through MAKEFLAGS).
set -u
P=${PARPLAN:?}
BIN=$(dirname "$P")
tmp=$(mktemp -d)
# Open MPI's session directory in this run's own folder: under the shared /tmp/ompi.* one, a
# process of another run ending at the same moment can remove it while this one creates its own
export OMPI_MCA_orte_tmpdir_base="$tmp"
trap 'rm -rf "$tmp"' EXIT
fail=0
export OPENBLAS_NUM_THREADS=1 OMPI_MCA_btl=self,vader OMPI_MCA_btl_vader_single_copy_mechanism=none
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0:protect_shadow_gap=0"
${MAKE:-make} -s exec-cuda BIN="$BIN" >"$tmp/out" 2>&1 || { cat "$tmp/out"; echo "FAIL: make exec-cuda"; exit 1; }
if ! grep -q "exec-cuda: built" "$tmp/out"; then
	grep -q "exec-cuda: skipped" "$tmp/out" || { cat "$tmp/out"; echo "FAIL: exec-cuda said neither built nor skipped"; exit 1; }
	echo "exec_cuda: no nvcc here, skipped"
	exit 0
fi
[ -x "$BIN/parplan-exec-cuda" ] || { echo "FAIL: no $BIN/parplan-exec-cuda"; exit 1; }
mpirun --allow-run-as-root -np 1 "$BIN/parplan-exec-cuda" --stub tests/data/exec-gpt-t2.json --ranks 1 \
	--backend cuda --dtype bf16 --scale 0.25 --iters 3 --warmup 1 -o "$tmp/m.json" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -eq 2 ]; then
	grep -q "parplan-exec: --backend cuda: no CUDA device visible" "$tmp/err" || { cat "$tmp/err"; fail=1; echo "FAIL: no-GPU message"; }
	[ ! -e "$tmp/m.json" ] || { echo "FAIL: wrote measurements without a GPU"; fail=1; }
	[ $fail -eq 0 ] && echo "exec_cuda: built and linked; no GPU here, the stub says so (exit 2)"
elif [ $rc -eq 0 ]; then
	grep -q '"backend":[[:space:]]*"cuda"' "$tmp/m.json" || { echo "FAIL: cuda measurements"; fail=1; }
	[ $fail -eq 0 ] && echo "exec_cuda: built, validated bf16 on a GPU: $(cat "$tmp/out")"
else
	cat "$tmp/out" "$tmp/err"
	echo "FAIL: parplan-exec-cuda exit $rc"
	fail=1
fi
exit $fail
