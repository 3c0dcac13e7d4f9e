#!/bin/sh
# tests/valgrind.sh - `make valgrind`: the CLI under valgrind's memcheck on small inputs: a full
# search with each method (exhaustive, mcmc, ilp) for Llama 3 8B on 16 A100s, `emit` of every
# format for the exhaustive search's plan and for two committed plans (an interleaved-pipeline
# GPT-3 and a p=8 Llama 3 70B; the formats that refuse them are run too, for their error path),
# `cost` of a plan, and `regress` of the shipped suite.  Any memcheck error (invalid read or
# write, use of an uninitialised value, bad free) or definitely lost block fails the run, as
# does a command whose exit status is not the expected one.  Logs: $BUILD/valgrind/*.log.  Environment: PARPLAN (bin/parplan),
# VALGRIND (valgrind), BUILD (build).
set -u
P=${PARPLAN:-bin/parplan}
VG=${VALGRIND:-valgrind}
B=${BUILD:-build}
out=$B/valgrind
rm -rf "$out"
mkdir -p "$out"
# 99: memcheck found something (told apart from the command's own exit status)
VGOPTS="--error-exitcode=99 --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite --track-origins=yes --num-callers=30"
fail=0
n=0
# vg NAME RC CMD...: run CMD under memcheck (log $out/NAME.log); it must exit RC
vg() {
	name=$1
	want=$2
	shift 2
	n=$((n + 1))
	$VG $VGOPTS --log-file="$out/$name.log" "$@" >"$out/$name.out" 2>"$out/$name.err"
	rc=$?
	errs=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$out/$name.log" | tail -1)
	lost=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$out/$name.log" | tail -1)
	if [ "$rc" -eq 99 ]; then
		echo "FAIL: valgrind $name: ${errs:-?} errors, ${lost:-0} bytes definitely lost ($out/$name.log)"
		grep -E -A14 'Invalid|uninitialised|definitely lost in|Mismatched|free\(\)|overlap|Syscall param' \
			"$out/$name.log" | head -n 60
		fail=1
	elif [ "$rc" -ne "$want" ]; then
		echo "FAIL: valgrind $name: the command exited $rc, expected $want"
		cat "$out/$name.err"
		fail=1
	else
		echo "ok   valgrind $name: exit $rc, 0 errors, ${lost:-0} bytes definitely lost"
	fi
}

M=models/llama3-8b.json
H=hwprofiles/dgx-a100-80g.json
for m in exhaustive mcmc ilp; do
	vg "search-$m" 0 "$P" search --model $M --hw $H --gpus 16 --global-batch 64 --method $m \
		--seed 1 --top 3 -o "$out/plan-$m.json"
done
# every format (`parplan emit --help`); each plan with the formats that refuse it (exit 2)
formats="megatron megatron-deepspeed megatron-bridge deepspeed torchtitan torchtitan-toml nemo1 nanotron report svg
plan exec"
for plan in "$out/plan-exhaustive.json" tests/regress/plans/gpt3-175b-interleaved.json \
	tests/data/plans/llama3-70b-h100-p8.json; do
	[ -f "$plan" ] || { echo "FAIL: no plan $plan"; fail=1; continue; }
	tag=$(basename "$plan" .json)
	case $tag in
	gpt3-*) refused="megatron-deepspeed deepspeed torchtitan torchtitan-toml nanotron" ;;
	llama3-70b-*) refused="nanotron" ;;
	*) refused="" ;;
	esac
	for f in $formats; do
		case " $refused " in *" $f "*) want=2 ;; *) want=0 ;; esac
		vg "emit-$tag-$f" $want "$P" emit --plan "$plan" --format $f -o "$out/$tag.$f"
	done
done
vg cost 0 "$P" cost --model $M --hw $H --plan "$out/plan-ilp.json"
vg regress 0 "$P" regress tests/regress/*.json
echo "valgrind: $n runs, $([ $fail -eq 0 ] && echo clean || echo FAILED)"
exit $fail
