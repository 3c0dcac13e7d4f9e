#!/bin/sh
# Launcher-aware search (issue 17 point 4): `search --launcher F` and `search --emit F1,F2`
# return only plans those launchers run, by the rules `parplan emit` enforces (pp_emit_runs);
# plans equal in every effect are one row.
set -u
P=${PARPLAN:?PARPLAN must name the parplan binary}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
die() { echo "FAIL: $*"; fail=1; }
M=models/gpt3-175b.json
H=hwprofiles/dgx-a100-80g.json
S="$P search --model $M --hw $H --gpus 1024 --global-batch 1536"

# unrestricted, the best plan is interleaved: DeepSpeed refuses it
$S --top 1 -o "$tmp/free.json" >/dev/null 2>&1 || die "search"
$P emit --plan "$tmp/free.json" --format deepspeed >/dev/null 2>"$tmp/err" &&
	die "the unrestricted best plan should be one DeepSpeed refuses (the test needs it)"

# --launcher deepspeed, each method: every plan DeepSpeed runs (its rules: 1F1B only, no
# interleaving, even stages, no context parallelism, no ZeRO 2/3 with p > 1), and the best emits
for method in exhaustive mcmc ilp; do
	$S --method $method --max-steps 3000 --time-limit 30 --top 20 --launcher deepspeed --json \
		-o "$tmp/ds-$method.json" >"$tmp/ds.json" 2>"$tmp/err" || die "$method --launcher deepspeed: $(head -c 300 "$tmp/err")"
	python3 - "$tmp/ds.json" <<'PY' || die "$method: a plan DeepSpeed refuses"
import json, sys
plans = json.load(open(sys.argv[1]))["plans"]
assert plans
for p in plans:
    g = p["global"]
    assert g["virtual_stages"] == 1 and g["schedule"] != "interleaved", g
    assert g["p"] == 1 or g["schedule"] == "1f1b", g
    assert g.get("cp", 1) == 1, g
    assert not g.get("first_stage_layers") and not g.get("last_stage_layers"), g
PY
	$P emit --plan "$tmp/ds-$method.json" --format deepspeed -o "$tmp/ds_config.json" 2>"$tmp/err" ||
		die "$method: deepspeed refuses the plan searched for it: $(head -c 300 "$tmp/err")"
done
# it is slower than the free best (the space is smaller), never faster
python3 - "$tmp/free.json" "$tmp/ds-exhaustive.json" <<'PY' || die "restricted faster than free"
import json, sys
a, b = (json.load(open(f))["predicted"]["iteration_s"] for f in sys.argv[1:3])
assert b >= a, (a, b)
PY

# --emit with two launchers: the best plan both run, both files written
L=models/llama3-70b.json
$P search --model $L --hw hwprofiles/dgx-h100.json --gpus 256 --global-batch 512 \
	--emit megatron-deepspeed,nanotron --out-dir "$tmp/two" -o "$tmp/two.json" >/dev/null 2>"$tmp/err" ||
	die "--emit megatron-deepspeed,nanotron: $(head -c 300 "$tmp/err")"
[ -s "$tmp/two/megatron_deepspeed.sh" ] && [ -s "$tmp/two/nanotron.yaml" ] || die "--emit files missing"
for f in megatron-deepspeed nanotron; do
	$P emit --plan "$tmp/two.json" --format $f >/dev/null 2>&1 || die "$f refuses the plan searched for it"
done
# with no plan they run: exit 1, one line naming the first rule broken (nanotron has no GPT model)
for l in nanotron deepspeed,nanotron; do
	$S --launcher $l >"$tmp/out" 2>"$tmp/err"
	[ $? -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] &&
		grep -q "no plan that fits runs on $l (.* refused; first: .*: rule \"" "$tmp/err" ||
		die "no runnable plan ($l): $(head -c 300 "$tmp/err")"
done
$S --launcher nanotron 2>&1 | grep -q 'nanotron: rule "llama models only"' || die "nanotron's reason not named"
# a bad name: exit 2, one line
$S --launcher fortran >"$tmp/out" 2>"$tmp/err"
[ $? -eq 2 ] && grep -q 'search: --launcher: unknown format "fortran"' "$tmp/err" || die "bad --launcher"

# a per-op plan (mcmc, ilp: configs other than Megatron's) is never emitted as another plan:
# a launcher format refuses it naming the rule; --nearest emits Megatron's configs under the same
# global plan with that plan's own prediction, which is the exhaustive search's score of it
$S --method mcmc --seed 3 --max-steps 3000 -o "$tmp/perop.json" >/dev/null 2>&1 || die "mcmc"
$P emit --plan "$tmp/perop.json" --format megatron -o "$tmp/perop.sh" 2>"$tmp/err"
[ $? -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q 'rule "Megatron per-op configs"' "$tmp/err" ||
	die "per-op plan not refused: $(head -c 300 "$tmp/err")"
[ -e "$tmp/perop.sh" ] && die "a refused per-op plan wrote a file"
$P emit --plan "$tmp/perop.json" --format megatron --nearest -o "$tmp/near.sh" 2>"$tmp/err" ||
	die "--nearest: $(head -c 300 "$tmp/err")"
$S --top 100000 --json >"$tmp/all.json" 2>/dev/null || die "exhaustive"
python3 - "$tmp/perop.json" "$tmp/near.sh" "$tmp/err" "$tmp/all.json" <<'PY' || die "--nearest numbers"
import json, re, sys
plan = json.load(open(sys.argv[1])); sh = open(sys.argv[2]).read(); err = open(sys.argv[3]).read()
allp = json.load(open(sys.argv[4]))["plans"]
t = float(re.search(r"# predicted: ([0-9.e+-]+) s per iteration", sh).group(1))
m = re.search(r"--nearest: .*: ([0-9.e+-]+) s per iteration, peak ([0-9.]+) GiB \(the plan: ([0-9.e+-]+) s", err)
assert m, err
assert abs(float(m.group(1)) / t - 1) < 1e-3, (m.group(1), t)
assert abs(float(m.group(3)) / plan["predicted"]["iteration_s"] - 1) < 1e-3
# the exhaustive search scores Megatron's configs under that global plan: the same time
g = plan["global"]
rows = [p for p in allp for x in [p["global"]] + p.get("same_effect", []) if x == g]
assert rows, "the plan's global settings not among the exhaustive plans"
assert abs(rows[0]["iteration_s"] / t - 1) < 1e-3, (rows[0]["iteration_s"], t)
assert abs(plan["predicted"]["iteration_s"] / t - 1) > 1e-5, "the per-op plan was no different"
PY
# ilp with --launcher: refused per-op plans are mapped to Megatron's configs, so the plan emits
$S --method ilp --time-limit 30 --launcher megatron -o "$tmp/ilp.json" >/dev/null 2>&1 || die "ilp --launcher"
$P emit --plan "$tmp/ilp.json" --format megatron >/dev/null 2>"$tmp/err" ||
	die "ilp --launcher megatron plan refused: $(head -c 300 "$tmp/err")"

# plans equal in every effect are one row: no two rows share degrees, time and memory
$S --top 30 --json >"$tmp/top.json" || die "top"
python3 - "$tmp/top.json" <<'PY' || die "equal rows"
import json, sys
plans = json.load(open(sys.argv[1]))["plans"]
assert len(plans) == 30, len(plans)
keys = set()
for p in plans:
    g = p["global"]
    k = (g["t"], g["p"], g["d"], g.get("cp", 1), g["micro_batch"], g["virtual_stages"],
         g.get("first_stage_layers", 0), g.get("last_stage_layers", 0), p["iteration_s"],
         p["memory"]["peak_gib"])
    assert k not in keys, k
    keys.add(k)
assert any(p.get("same_effect") for p in plans), "nothing folded (the test needs some)"
PY

[ $fail -eq 0 ] && echo "launcher: ok"
exit $fail
