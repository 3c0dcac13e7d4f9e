#!/bin/sh
# `parplan search`: the three methods end to end on gpt3-175b / 1024 A100s, the published
# Megatron plan in the exhaustive list at `parplan cost`'s time, byte-identical MCMC plans for a
# seed, the memory limit, Ctrl-C, the progress line on a terminal, and bad input.
set -u
P=${PARPLAN:?PARPLAN must name the parplan binary}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
M=models/gpt3-175b.json
H=hwprofiles/dgx-a100-80g.json
S="$P search --model $M --hw $H --gpus 1024 --global-batch 1536"
die() { echo "FAIL: $*"; fail=1; }

# exhaustive: every feasible plan, sorted; Megatron's published plan (t=8 p=16 b=1) is in the
# list with the time `parplan cost` gives it, and the best is at least as fast
$S --top 100000 --json >"$tmp/all.json" 2>"$tmp/err" || die "exhaustive search"
[ -s "$tmp/err" ] && die "stderr not empty: $(head -c 300 "$tmp/err")"
# (with the overlaps the search turns on for it: the default stack, megatron-core, has all three)
$P cost --model $M --hw $H --t 8 --p 16 --d 8 --micro-batch 1 --global-batch 1536 \
	--recompute selective --sequence-parallel --distributed-optimizer --overlap-grad-reduce \
	--tp-comm-overlap --overlap-param-gather --json >"$tmp/pub.json" || die "cost"
python3 - "$tmp/all.json" "$tmp/pub.json" <<'PY' || fail=1
import json, sys
r = json.load(open(sys.argv[1])); pub = json.load(open(sys.argv[2]))
plans = r["plans"]; s = r["search"]
assert s["method"] == "exhaustive" and s["optimal"] is True and s["states"] > 1000, s
for k in ("method", "states", "seconds", "seed", "optimal"):
    assert k in s, k
times = [p["iteration_s"] for p in plans]
assert times == sorted(times), "not sorted"
for p in plans:
    assert p["feasible"] and p["memory"]["peak_gib"] <= p["memory"]["capacity_gib"], p
    for k in pub:                        # every key of `parplan cost --json`
        assert k in p, k
    g = p["global"]
    for k in ("t", "p", "d", "micro_batch", "global_batch", "virtual_stages", "schedule",
              "recompute", "sequence_parallel", "distributed_optimizer"):
        assert k in g, k
    assert g["t"] * g.get("cp", 1) * g["p"] * g["d"] == 1024 and g["global_batch"] == 1536, g
want = dict(t=8, p=16, d=8, micro_batch=1, virtual_stages=1, schedule="1f1b", recompute="selective",
            sequence_parallel=True, distributed_optimizer=True)
# (a row stands for the plans equal to it in every effect too: "same_effect")
hits = [p for p in plans for g in [p["global"]] + p.get("same_effect", [])
        if all(g[k] == v for k, v in want.items())
        and not g.get("first_stage_layers") and not g.get("last_stage_layers")]
assert len(hits) == 1, len(hits)
assert abs(hits[0]["iteration_s"] / pub["iteration_s"] - 1) < 1e-12, (hits[0]["iteration_s"], pub["iteration_s"])
assert plans[0]["iteration_s"] <= pub["iteration_s"]
PY

# the table and the one-line summary
$S --top 3 >"$tmp/table" || die "table"
head -1 "$tmp/table" | grep -q 'iteration_s.*tokens/s.*MFU.*peak_GiB' || die "table header"
[ "$(grep -c '^[0-9]' "$tmp/table")" -eq 3 ] || die "3 plans in the table"
grep -qE '^exhaustive: [0-9]+ states in [0-9.]+ s' "$tmp/table" || die "summary line"

# -o writes a plan the cost command reads back to the same time
for m in exhaustive mcmc ilp; do
	$S --method $m --seed 3 --max-steps 3000 --json -o "$tmp/$m.plan.json" >"$tmp/$m.json" || die "$m"
	$P cost --model $M --hw $H --plan "$tmp/$m.plan.json" --json >"$tmp/$m.cost.json" || die "$m plan does not load"
	python3 - "$tmp/$m.json" "$tmp/$m.cost.json" "$tmp/$m.plan.json" "$m" <<'PY' || fail=1
import json, sys
r = json.load(open(sys.argv[1])); c = json.load(open(sys.argv[2])); plan = json.load(open(sys.argv[3]))
assert r["search"]["method"] == sys.argv[4]
assert abs(r["plans"][0]["iteration_s"] / c["iteration_s"] - 1) < 1e-9, (r["plans"][0]["iteration_s"], c["iteration_s"])
assert plan["format"] == "parplan-plan/1" and plan["search"]["method"] == sys.argv[4]
if sys.argv[4] == "ilp":
    assert r["search"]["optimal"] is True and plan["search"]["optimal"] is True
PY
done

# (d) same seed, same plan bytes; another seed, another chain
$S --method mcmc --seed 11 --max-steps 4000 -o "$tmp/a.json" >/dev/null || die "mcmc a"
$S --method mcmc --seed 11 --max-steps 4000 -o "$tmp/b.json" >/dev/null || die "mcmc b"
cmp -s "$tmp/a.json" "$tmp/b.json" || die "same seed gave different plan files"
$S --method mcmc --seed 12 --max-steps 4000 --json >"$tmp/c.json" || die "mcmc c"
$S --method mcmc --seed 11 --max-steps 4000 --json >"$tmp/a2.json" || die "mcmc a2"
grep -q '"seed":	11' "$tmp/a2.json" || die "seed not reported"
grep -q '"seed":	12' "$tmp/c.json" || die "seed 12 not reported"
# another seed walks another chain: its top plans (globals and times) differ from seed 11's
python3 - "$tmp/a2.json" "$tmp/c.json" <<'PY' || die "seeds 11 and 12 gave the same plans"
import json, sys
a, c = (json.load(open(f)) for f in sys.argv[1:3])
key = lambda r: [(p["global"], p["iteration_s"]) for p in r["plans"]]
assert key(a) != key(c)
PY

# (--max-zero 1: the distributed optimizer at most, where no even-stage plan fits; ZeRO-2 would)
U="$P search --model models/llama3-405b.json --hw hwprofiles/dgx-h100.json --gpus 1024 --global-batch 1024 --max-zero 1"
# --top far above the plans met allocates for the plans kept, not for K (sanitizer builds need
# their shadow memory, so only the plain binary runs under the address-space limit)
case $P in
*asan*) ;;
*)
	for m in exhaustive mcmc ilp; do
		(ulimit -v 262144; $U --method $m --top 1000000 --max-steps 5000 >"$tmp/top.out" 2>"$tmp/top.err") ||
			die "$m --top 1000000 in 256 MiB: $(cat "$tmp/top.err")"
	done
	;;
esac

# a memory limit above what the GPU can use is refused (exit 2, one line naming the capacity)
$S --mem-limit 200 >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q 'more than the .* GiB a GPU of dgx-a100-80g can use' "$tmp/err" ||
	die "--mem-limit 200 on 80 GB GPUs: exit $rc: $(cat "$tmp/err")"

# uneven stages show their layout in the table, p(f,l); every MIP proven optimal, not the plan
# (llama3-405b on 1024 H100s, batch 1024: every plan that fits has uneven stages; mcmc and ilp
# must still find one)
$U --method mcmc --top 3 >"$tmp/uneven" || die "mcmc found no uneven plan"
grep -Eq '^1 +[0-9]+ +[0-9]+\([0-9]+,[0-9]+\) ' "$tmp/uneven" || die "mcmc: no p(f,l) row: $(cat "$tmp/uneven")"
$U --method ilp --top 3 >"$tmp/uneven" || die "ilp found no uneven plan"
grep -Eq '^[0-9]+ +[0-9]+ +[0-9]+\([0-9]+,[0-9]+\) ' "$tmp/uneven" || die "no p(f,l) row: $(cat "$tmp/uneven")"
grep -q 'every MIP proven optimal' "$tmp/uneven" || die "ilp summary: $(tail -1 "$tmp/uneven")"
! grep -q '[0-9]\* ' "$tmp/uneven" || die "uneven rows still marked with *"

# (e) a tight memory limit: every method returns only plans under it
for m in exhaustive mcmc ilp; do
	$S --method $m --mem-limit 30 --top 20 --max-steps 3000 --json >"$tmp/mem.json" || die "$m --mem-limit 30"
	python3 -c "
import json, sys
r = json.load(open('$tmp/mem.json'))
assert r['plans'], 'no plans'
for p in r['plans']:
    assert p['memory']['peak_gib'] <= 30.0, p['memory']
" || die "$m plans over 30 GiB"
	# nothing fits in 1 GiB: exit 1, one line with the reason
	$S --method $m --mem-limit 1 >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ $rc -eq 1 ] || die "$m --mem-limit 1 exit $rc"
	if [ $m = exhaustive ]; then want='no plan fits.*GiB'; else want='found no plan that fits.*GiB'; fi
	[ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "$want" "$tmp/err" || die "$m infeasible message: $(cat "$tmp/err")"
done

# Ctrl-C returns the best plan so far
$S --method mcmc --time-limit 60 >"$tmp/int.out" 2>"$tmp/int.err" &
pid=$!
# signal once it searches (0.5 s of CPU), not while it starts: that would race its handler
. "$(dirname "$0")/lib/busy.sh"
wait_busy $pid $((hz / 2))
kill -INT $pid
wait $pid
rc=$?
[ $rc -eq 0 ] || die "SIGINT: exit $rc"
grep -q 'stopped early' "$tmp/int.out" || die "SIGINT: no best-so-far summary: $(cat "$tmp/int.out")"
[ "$(grep -c '^[0-9]' "$tmp/int.out")" -ge 1 ] || die "SIGINT: no plan printed"

# progress line on a terminal only (and only past one second)
if command -v script >/dev/null 2>&1; then
	script -qec "$S --method mcmc --time-limit 2.5 >/dev/null" /dev/null >"$tmp/tty.out" 2>&1 || die "search under script"
	grep -q 'parplan: search:.*states' "$tmp/tty.out" || die "no progress line on a terminal"
fi
$S --method mcmc --time-limit 1.5 >/dev/null 2>"$tmp/err" || die "mcmc time limit"
[ -s "$tmp/err" ] && die "progress written to a non-terminal"

# --emit writes the best plan's launcher files into a folder, and the plan it emits is the best
$S --top 1 --emit megatron,report,plan --out-dir "$tmp/emit" --json >"$tmp/emit.json" || die "--emit"
for f in megatron.sh report.txt plan.json; do [ -s "$tmp/emit/$f" ] || die "--emit did not write $f"; done
$P cost --model $M --hw $H --plan "$tmp/emit/plan.json" --json >"$tmp/emit.cost.json" || die "emitted plan does not load"
python3 -c "
import json
a = json.load(open('$tmp/emit.json'))['plans'][0]['iteration_s']; b = json.load(open('$tmp/emit.cost.json'))['iteration_s']
assert abs(a / b - 1) < 1e-9, (a, b)
" || die "emitted plan is not the best"
# the script carries the best plan's t and the overlaps the search chose for it (Megatron-LM's
# flags), and a search with --no-overlap chooses none
python3 - "$tmp/emit.json" "$tmp/emit/megatron.sh" <<'PY' || die "megatron.sh does not carry the best plan's t and overlaps"
import json, sys
g = json.load(open(sys.argv[1]))["plans"][0]["global"]; sh = open(sys.argv[2]).read()
assert f"--tensor-model-parallel-size {g['t']}\n" in sh, g
assert g.get("overlap_grad_reduce") == (g["d"] > 1), g
assert g.get("tp_comm_overlap", False) == (g["t"] > 1 and g["sequence_parallel"]), g
assert g.get("overlap_param_gather", False) == (g["d"] > 1 and g["distributed_optimizer"]), g
for key, flag in (("overlap_grad_reduce", "--overlap-grad-reduce"), ("tp_comm_overlap", "--tp-comm-overlap"),
                  ("overlap_param_gather", "--overlap-param-gather")):
    assert (f"\t{flag}\n" in sh) == bool(g.get(key)), (key, g)
assert g.get("tp_comm_overlap") and g.get("overlap_grad_reduce") and g.get("overlap_param_gather"), g
PY
$S --top 3 --no-overlap --json >"$tmp/noov.json" || die "--no-overlap"
python3 - "$tmp/noov.json" <<'PY' || die "--no-overlap chose overlaps"
import json, sys
for p in json.load(open(sys.argv[1]))["plans"]:
    g = p["global"]
    assert not g.get("overlap_grad_reduce") and not g.get("tp_comm_overlap") and not g.get("overlap_param_gather"), g
PY

# a format that refuses the best plan (torchtitan runs llama models only; this is GPT-3) never
# throws the search away: the plan file and the table are written and the refusal named (exit 2:
# a file asked for could not be made); the folder gets none of the formats (all or nothing)
for out in table json; do
	j=
	[ $out = json ] && j=--json
	rm -rf "$tmp/kept.json" "$tmp/refused"
	$S --top 1 $j --emit megatron,torchtitan --out-dir "$tmp/refused" -o "$tmp/kept.json" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ $rc -eq 2 ] || die "refused format ($out): exit $rc"
	[ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q '^parplan: search: --emit: .*torchtitan: rule "llama models only"' "$tmp/err" ||
		die "refused format ($out): stderr: $(head -c 300 "$tmp/err")"
	$P cost --model $M --hw $H --plan "$tmp/kept.json" >/dev/null 2>&1 || die "refused format ($out): no plan file"
	if [ $out = json ]; then
		python3 -c "import json, sys; r = json.load(open(sys.argv[1])); assert r['plans'] and r['search']['method'] == 'exhaustive'" \
			"$tmp/out" || die "refused format: no JSON result"
	else
		grep -q '^1 ' "$tmp/out" && grep -qE '^exhaustive: [0-9]+ states' "$tmp/out" || die "refused format: no table"
	fi
	[ -e "$tmp/refused/megatron.sh" ] && die "refused format ($out): megatron.sh written beside a refused format"
done

# option values are checked before any work: where the search itself would fail (nothing fits in
# 1 GiB: exit 1), a bad --emit list, -o or --out-dir is what is reported (exit 2, one line)
: >"$tmp/afile"
early() {
	want=$1
	shift
	"$@" --mem-limit 1 >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q -- "$want" "$tmp/err" ||
		die "$* (want \"$want\" before searching): exit $rc: $(head -c 300 "$tmp/err")"
}
early 'search: --emit: bad format list' $S --emit megatron, --out-dir "$tmp/e3"
early 'search: --emit: bad format list' $S --emit megatron,,report --out-dir "$tmp/e3"
early 'search: --emit: bad format list' $S --emit ,megatron --out-dir "$tmp/e3"
early "search: -o: cannot write into '$tmp/nodir'" $S -o "$tmp/nodir/plan.json"
early "search: -o: '$tmp' is a folder" $S -o "$tmp"
early "search: --out-dir: '$tmp/afile' is not a folder" $S --emit megatron --out-dir "$tmp/afile/sub"
[ -e "$tmp/e3" ] && die "a refused option value left a folder behind"

# bad input: exit 2, one line naming the problem, no output file
bad() {
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] || die "$* -> exit $rc: $(head -c 300 "$tmp/err")"
}
bad $P search --model $M --hw $H --gpus 1024
bad $P search --model $M --hw $H --gpus 1024 --global-batch 1536 --method annealing
bad $P search --model $M --hw $H --gpus 0 --global-batch 1536
bad $P search --model tests/data/bad/graph-cycle.json --hw $H --gpus 8 --global-batch 8
grep -q 'graph-cycle.json' "$tmp/err" || die "bad model not named"
bad $P search --model $M --hw tests/data/bad/hw-empty.json --gpus 8 --global-batch 8
bad $P search --model $M --hw $H --gpus 1024 --global-batch 1536 -o "$tmp/nodir/plan.json"
[ -e "$tmp/nodir/plan.json" ] && die "plan written into a missing folder"
bad $P search --model $M --hw $H --gpus 1024 --global-batch 1536 --top 0
bad $P search --model $M --hw $H --gpus 1024 --global-batch 1536 --frobnicate
bad $P search --model $M --hw $H --gpus 1024 --global-batch 1536 --emit megatron,bogus --out-dir "$tmp/e2"
[ -e "$tmp/e2" ] && die "--emit with an unknown format wrote something"
bad $P search --model $M --hw $H --gpus 1024 --global-batch 1536 --emit megatron

# long sequences: Llama 3 8B at 128K tokens on 64 H100s fits only with the sequence split (cp > 1)
# or sharded states; with neither (cp 1, ZeRO-1 at most) the best plan is slower; the table shows
# the ZeRO stage and cp, the JSON carries them
L="$P search --model models/llama3-8b-128k.json --hw hwprofiles/dgx-h100.json --gpus 64 --global-batch 64 --top 1"
$L --json >"$tmp/l.json" || die "128K search"
$L --max-cp 1 --max-zero 1 --json >"$tmp/l1.json" || die "128K search, cp 1"
$L >"$tmp/l.txt" || die "128K table"
head -1 "$tmp/l.txt" | grep -Eq 'peak_GiB ZeRO +cp$' || die "table lacks ZeRO and cp: $(head -1 "$tmp/l.txt")"
python3 - "$tmp/l.json" "$tmp/l1.json" <<'PY' || die "128K search results"
import json, sys
a, b = (json.load(open(f))["plans"][0] for f in sys.argv[1:])
g = a["global"]
assert g.get("cp", 1) > 1 and a["feasible"], g
assert g["t"] * g.get("cp", 1) * g["p"] * g["d"] == 64, g
assert b["global"].get("cp", 1) == 1 and b["global"].get("zero", 0) <= 1, b["global"]
assert a["iteration_s"] < b["iteration_s"], (a["iteration_s"], b["iteration_s"])
PY
bad $P search --model $M --hw $H --gpus 1024 --global-batch 1536 --max-zero 4
bad $P search --model $M --hw $H --gpus 1024 --global-batch 1536 --max-cp 0

[ $fail -eq 0 ] && echo "search: ok"
exit $fail
