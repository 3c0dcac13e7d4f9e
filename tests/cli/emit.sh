#!/bin/sh
# parplan emit: golden files for five plans x every launcher format, the report and the SVG
# (tests/golden/emit/<plan>/<format>, "<format>.err" where the launcher's rules refuse the plan,
# "svg.sha256" where the SVG is too large to keep); parse-back of each file (tests/cli/
# emit_check.py); one plan breaking each launcher rule; malformed plans; failed commands leave
# no file.  UPDATE_GOLDEN=1 rewrites the goldens.
set -u
P=${PARPLAN:?PARPLAN must name the parplan binary}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0 n=0
G=tests/golden/emit
FORMATS="megatron megatron-deepspeed megatron-bridge deepspeed torchtitan torchtitan-toml nemo1 nanotron
report svg"
BIG=524288

# torchrun stand-in: records the command line the Megatron scripts build
mkdir -p "$tmp/bin"
printf '#!/bin/sh\nprintf "%%s\\n" "$@" >"$ARGV_OUT"\n' >"$tmp/bin/torchrun"
chmod +x "$tmp/bin/torchrun"

bad() { echo "FAIL: $*"; fail=1; }

# a Python with OmegaConf (NeMo's config library): python3, else Debian's python3-omegaconf
OMEGACONF_PY=""
for py in python3 /usr/bin/python3; do
	if "$py" -c 'import omegaconf' 2>/dev/null; then
		OMEGACONF_PY=$py
		break
	fi
done

golden() { # golden-file, produced-file
	if [ -n "${UPDATE_GOLDEN:-}" ]; then
		mkdir -p "$(dirname "$1")"
		cp "$2" "$1"
	fi
	cmp -s "$1" "$2" || bad "$2 differs from $1"
}

for plan in gpt3-175b-1024 llama3-70b-h100 llama3-8b-p1 llama31-70b-hf qwen25-7b-hf llama3-70b-b200-fp8 llama3-8b-h100-fp8; do
	pf=tests/data/plans/$plan.json
	for f in $FORMATS; do
		out="$tmp/$plan.$f"
		n=$((n + 1))
		"$P" emit --plan "$pf" --format "$f" -o "$out" 2>"$tmp/err"
		rc=$?
		if [ -e "$G/$plan/$f.err" ] || { [ -n "${UPDATE_GOLDEN:-}" ] && [ $rc -ne 0 ]; }; then
			# a refusal: exit 2, one line naming the plan file and the rule, no file
			[ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "$pf: .*rule \"" "$tmp/err" ||
				bad "$plan $f: exit $rc: $(cat "$tmp/err")"
			[ ! -e "$out" ] || bad "$plan $f: refused but wrote $out"
			golden "$G/$plan/$f.err" "$tmp/err"
			continue
		fi
		[ $rc -eq 0 ] || { bad "$plan $f: exit $rc: $(cat "$tmp/err")"; continue; }
		if [ "$(wc -c <"$out")" -gt $BIG ]; then
			(cd "$tmp" && sha256sum "$plan.$f" | cut -d' ' -f1) >"$tmp/sum"
			golden "$G/$plan/$f.sha256" "$tmp/sum"
		else
			golden "$G/$plan/$f" "$out"
		fi
		# no line of a launcher file runs anything but what parplan wrote: names are checked
		case $f in
		megatron | megatron-deepspeed | megatron-bridge)
			# Megatron-DeepSpeed has no mock data: without DATA_ARGS the script stops
			if [ "$f" = megatron-deepspeed ]; then
				rm -f "$tmp/argv"
				PATH="$tmp/bin:$PATH" ARGV_OUT="$tmp/argv" bash "$out" 2>"$tmp/err"
				rc=$?
				[ $rc -eq 2 ] && grep -q "set DATA_ARGS" "$tmp/err" && [ ! -e "$tmp/argv" ] ||
					bad "$plan $f without DATA_ARGS: exit $rc: $(cat "$tmp/err")"
			fi
			bash -n "$out" || bad "$plan $f: bash -n"
			data=""
			[ "$f" = megatron ] || data="--data-path /data/corpus_text_document --tokenizer-type GPT2BPETokenizer --vocab-file /data/vocab.json --merge-file /data/merges.txt"
			PATH="$tmp/bin:$PATH" ARGV_OUT="$tmp/argv" MEGATRON_LM=/opt/Megatron-LM \
				MEGATRON_DEEPSPEED=/opt/Megatron-DeepSpeed MEGATRON_BRIDGE=/opt/Megatron-Bridge \
				DATA_ARGS="$data" bash "$out" ||
				bad "$plan $f: script failed"
			python3 tests/cli/emit_check.py "$f" "$pf" "$out" "$tmp/argv" || fail=1
			;;
		svg)
			if command -v xmllint >/dev/null; then
				xmllint --noout "$out" || bad "$plan svg: xmllint"
			fi
			if command -v rsvg-convert >/dev/null; then
				rsvg-convert -o "$tmp/$plan.png" "$out" && [ -s "$tmp/$plan.png" ] ||
					bad "$plan svg: rsvg-convert"
			fi
			python3 tests/cli/emit_check.py svg "$pf" "$out" || fail=1
			;;
		nemo1)
			python3 tests/cli/emit_check.py "$f" "$pf" "$out" || fail=1
			# composed over NeMo's base config, what the user must give stops the run
			# naming its key (tests/cli/nemo_compose.py)
			if [ -z "$OMEGACONF_PY" ]; then
				bad "no Python with omegaconf for the NeMo composition check (Debian: apt-get install python3-omegaconf)"
			else
				"$OMEGACONF_PY" tests/cli/nemo_compose.py tests/data/nemo1-base.yaml "$out" >/dev/null || fail=1
			fi
			;;
		*)
			python3 tests/cli/emit_check.py "$f" "$pf" "$out" || fail=1
			;;
		esac
	done
done

# stdout without -o equals the file
"$P" emit --plan tests/data/plans/llama3-70b-h100.json --format nemo1 >"$tmp/stdout.yaml" || bad "emit to stdout"
cmp -s "$tmp/stdout.yaml" "$G/llama3-70b-h100/nemo1" || bad "stdout differs from -o output"

# one plan breaking each launcher rule: exit 2, one line naming the file and the rule
rules() {
	python3 - "$tmp" <<'PY'
import copy, json, sys
base = json.load(open("tests/data/plans/llama3-70b-h100.json"))
base["ops"] = []   # per-op degrees would have to follow t and d; the rules are about the globals

def stages(p):
    g, L = p["global"], p["model_shape"]["layers"]
    n = g["p"] * g["virtual_stages"]
    if g.get("first_stage_layers") or g.get("last_stage_layers"):
        f, l = g.get("first_stage_layers", 0), g.get("last_stage_layers", 0)
        inner = n - (f > 0) - (l > 0)
        sizes = ([f] if f else []) + [(L - f - l) // inner] * inner + ([l] if l else [])
    else:
        sizes = [L // n] * n
    sizes[-1] += L - sum(sizes)
    p["stages"], first = [], 0
    for i, s in enumerate(sizes):
        p["stages"].append({"first_layer": first, "layers": s, "embedding": i == 0,
                            "head": i == n - 1})
        first += s

cases = [
    ("world", "megatron", "world size = t*p*d", {"gpus": 96}, {}, {}),
    ("batch", "megatron", "global batch divisible by micro-batch*d", {}, {"global_batch": 510}, {}),
    ("layers", "megatron", "layers divisible by p", {}, {}, {"layers": 78}),
    ("heads", "nemo1", "heads divisible by t", {}, {}, {"heads": 60, "kv_heads": 60}),
    ("groups", "megatron", "query groups a multiple or divisor of t", {}, {},
     {"heads": 96, "kv_heads": 12}),
    ("kv", "nanotron", "kv heads at least t", {}, {}, {"kv_heads": 4}),
    ("sp", "megatron", "sequence parallel only with t > 1", {}, {"t": 1, "d": 32}, {}),
    ("recompute", "megatron", "recompute flags", {}, {}, {}),
    ("zero", "deepspeed", "no ZeRO 2/3 with pipeline parallelism", {}, {}, {}),
    ("nodes", "megatron", "whole nodes", {"node_devices": 6}, {}, {}),
    ("pv", "megatron", "layers divisible by p*v", {},
     {"schedule": "interleaved", "virtual_stages": 3}, {}),
    ("mp", "megatron", "micro-batches a multiple of p", {},
     {"schedule": "interleaved", "virtual_stages": 2, "global_batch": 24}, {}),
    ("gpipe", "megatron", "no GPipe schedule", {}, {"schedule": "gpipe"}, {}),
    ("uneven", "nemo1", "even pipeline stages", {},
     {"first_stage_layers": 18, "last_stage_layers": 20}, {}),
    ("interleave", "nanotron", "no interleaved schedule", {},
     {"schedule": "interleaved", "virtual_stages": 2}, {}),
    ("family", "torchtitan", "llama models only", {}, {}, {"family": "gpt"}),
    ("tpsp", "torchtitan-toml", "tensor parallel is sequence parallel", {},
     {"sequence_parallel": False}, {}),
    ("mbstage", "torchtitan-toml", "micro-batches at least p*v", {}, {"global_batch": 12}, {}),
    ("flavor", "torchtitan", "registered model flavor", {}, {}, {"hidden": 4096}),
    ("p3nemo", "nemo1", "interleaving needs p > 2", {},
     {"p": 2, "d": 8, "schedule": "interleaved", "virtual_stages": 2}, {}),
    ("selective", "nanotron", "no selective recompute", {}, {}, {}),
    ("zero1", "nanotron", "ZeRO stage 0 or 1", {}, {"recompute": "full"}, {}),
    ("ttstages", "torchtitan", "stages from layers per stage", {},
     {"schedule": "interleaved", "virtual_stages": 4}, {}),
]
for fmt in ("megatron", "megatron-deepspeed", "megatron-bridge", "deepspeed", "torchtitan",
            "torchtitan-toml", "nemo1", "nanotron"):
    cases.append((f"v1-{fmt}", fmt, "interleaving needs v > 1", {},
                  {"schedule": "interleaved", "virtual_stages": 1}, {}))
for name, fmt, rule, top, glob, shape in cases:
    p = copy.deepcopy(base)
    p.update(top)
    p["global"].update(glob)
    p["model_shape"].update(shape)
    stages(p)
    path = f"{sys.argv[1]}/rule-{name}.json"
    json.dump(p, open(path, "w"), indent=1)
    print(f"{path}|{fmt}|{rule}")
PY
}
rules >"$tmp/rules" || bad "making rule plans"
while IFS='|' read -r pf f rule; do
	n=$((n + 1))
	extra=""
	case $pf in
	*rule-recompute.json) extra="--recompute-num-layers 2" ;;
	*rule-zero.json | *rule-zero1.json) extra="--zero-stage 2" ;;
	esac
	# shellcheck disable=SC2086
	"$P" emit --plan "$pf" --format "$f" $extra -o "$tmp/never" 2>"$tmp/err"
	rc=$?
	[ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -qF "$pf" "$tmp/err" &&
		grep -qF "$f: rule \"$rule\"" "$tmp/err" || bad "rule \"$rule\" ($f): exit $rc: $(cat "$tmp/err")"
	[ ! -e "$tmp/never" ] || { bad "rule \"$rule\": output written"; rm -f "$tmp/never"; }
done <"$tmp/rules"
[ "$(wc -l <"$tmp/rules")" -eq 31 ] || bad "expected 31 rule plans"
# Megatron-LM takes the interleaved schedule on p = 2 (its p2p overlap is on by default)
"$P" cost --model models/llama3-70b.json --hw hwprofiles/dgx-h100.json --t 8 --p 2 --d 8 --micro-batch 1 \
	--global-batch 64 --virtual-stages 2 --sequence-parallel -o "$tmp/p2v2.json" >/dev/null || bad "p=2 v=2 plan"
"$P" emit --plan "$tmp/p2v2.json" --format megatron >"$tmp/p2v2.sh" || bad "megatron refuses p=2 interleaved"
grep -q -- '--pipeline-model-parallel-size 2$' "$tmp/p2v2.sh" && grep -q -- '--num-virtual-stages-per-pipeline-rank 2$' "$tmp/p2v2.sh" \
	|| bad "p=2 interleaved script lacks its flags"

# torchtitan, Interleaved1F1B with v = 4 on p = 2 (80 layers): 11 layers per stage makes
# ceil(82 / 11) = 8 = p*v stages; emit_check.py recomputes torchtitan's count
# p2_plan V FILE: the Llama 3 70B plan interleaved on p = 2 with V chunks per rank
p2_plan() {
	python3 - "$1" "$2" <<'PY'
import json, sys
v, n = int(sys.argv[1]), 2 * int(sys.argv[1])
p = json.load(open("tests/data/plans/llama3-70b-h100.json"))
p["ops"] = []
p["global"].update({"p": 2, "d": 8, "schedule": "interleaved", "virtual_stages": v})
p["stages"] = [{"first_layer": 80 // n * i, "layers": 80 // n, "embedding": i == 0,
                "head": i == n - 1} for i in range(n)]
json.dump(p, open(sys.argv[2], "w"))
PY
}
p2_plan 4 "$tmp/tt-v4.json" || bad "making the torchtitan v = 4 plan"
"$P" emit --plan "$tmp/tt-v4.json" --format torchtitan-toml -o "$tmp/tt-v4.toml" 2>"$tmp/err" &&
	grep -q '^pipeline_parallel_layers_per_stage = 11$' "$tmp/tt-v4.toml" &&
	python3 tests/cli/emit_check.py torchtitan-toml "$tmp/tt-v4.json" "$tmp/tt-v4.toml" ||
	bad "torchtitan-toml v = 4: $(cat "$tmp/err")"
"$P" emit --plan "$tmp/tt-v4.json" --format torchtitan -o "$tmp/tt-v4.py" 2>"$tmp/err" &&
	grep -q '^        pipeline_parallel_layers_per_stage=11,$' "$tmp/tt-v4.py" &&
	python3 tests/cli/emit_check.py torchtitan "$tmp/tt-v4.json" "$tmp/tt-v4.py" ||
	bad "torchtitan v = 4: $(cat "$tmp/err")"

# FSDP as HSDP (shard over 2 of 4 replicas) with context parallelism 2: torchtitan's degrees
# (emit_check.py: replicate 2 x shard 2, cp 2, reshard after forward); Megatron-Bridge writes
# Megatron FSDP but not its hybrid sharding, and says so
"$P" cost --model models/llama3-8b.json --hw hwprofiles/dgx-h100.json --t 2 --cp 2 --p 1 --d 4 \
	--micro-batch 1 --global-batch 64 --recompute full --sequence-parallel --fsdp --hsdp-shard 2 \
	-o "$tmp/hsdp.json" >/dev/null || bad "making the HSDP plan"
"$P" emit --plan "$tmp/hsdp.json" --format torchtitan -o "$tmp/hsdp.py" &&
	grep -q "^        context_parallel_degree=2,$" "$tmp/hsdp.py" &&
	python3 tests/cli/emit_check.py torchtitan "$tmp/hsdp.json" "$tmp/hsdp.py" || bad "torchtitan HSDP + CP"
"$P" emit --plan "$tmp/hsdp.json" --format megatron-bridge -o "$tmp/never" 2>"$tmp/err"
[ $? -eq 2 ] && grep -q 'megatron-bridge: rule "no HSDP"' "$tmp/err" && [ ! -e "$tmp/never" ] ||
	bad "megatron-bridge HSDP: $(cat "$tmp/err")"

# context parallelism 2 with the distributed optimizer: Megatron-LM and NeMo 1.x write it,
# DeepSpeed and Nanotron refuse it by name; FSDP (ZeRO-3) is refused where only the distributed
# optimizer is written
"$P" cost --model models/llama3-8b.json --hw hwprofiles/dgx-h100.json --t 2 --cp 2 --p 1 --d 2 \
	--micro-batch 1 --global-batch 64 --recompute full --sequence-parallel --distributed-optimizer \
	-o "$tmp/cp.json" >/dev/null || bad "making the CP plan"
rm -f "$tmp/argv"
"$P" emit --plan "$tmp/cp.json" --format megatron -o "$tmp/cp.sh" &&
	PATH="$tmp/bin:$PATH" ARGV_OUT="$tmp/argv" bash "$tmp/cp.sh" &&
	python3 tests/cli/emit_check.py megatron "$tmp/cp.json" "$tmp/cp.sh" "$tmp/argv" ||
	bad "megatron with cp 2"
# hierarchical CP (a2a in pairs, a ring over 2 pairs): --cp-comm-type a2a+p2p and the two levels
"$P" cost --model models/llama3-8b.json --hw hwprofiles/dgx-h100.json --t 2 --cp 4 --p 1 --d 1 \
	--micro-batch 1 --global-batch 64 --recompute full --sequence-parallel --distributed-optimizer \
	--cp-comm-type a2a+p2p --cp-a2a 2 -o "$tmp/cph.json" >/dev/null || bad "making the a2a+p2p plan"
rm -f "$tmp/argv"
"$P" emit --plan "$tmp/cph.json" --format megatron -o "$tmp/cph.sh" &&
	PATH="$tmp/bin:$PATH" ARGV_OUT="$tmp/argv" bash "$tmp/cph.sh" &&
	python3 tests/cli/emit_check.py megatron "$tmp/cph.json" "$tmp/cph.sh" "$tmp/argv" ||
	bad "megatron with a2a+p2p"
"$P" emit --plan "$tmp/cph.json" --format megatron-bridge 2>/dev/null | grep -q "hierarchical_context_parallel_sizes=\[2,2\]" ||
	bad "megatron-bridge without hierarchical_context_parallel_sizes"
"$P" emit --plan "$tmp/cp.json" --format nemo1 | grep -q "^  context_parallel_size: 2$" ||
	bad "nemo1 without context_parallel_size"
for fr in "deepspeed:no context parallelism" "nanotron:no context parallelism"; do
	"$P" emit --plan "$tmp/cp.json" --format "${fr%%:*}" >/dev/null 2>"$tmp/err"
	[ $? -eq 2 ] && grep -q "rule \"${fr#*:}\"" "$tmp/err" || bad "$fr: $(cat "$tmp/err")"
done
for f in megatron nemo1; do
	"$P" emit --plan "$tmp/hsdp.json" --format $f >/dev/null 2>"$tmp/err"
	[ $? -eq 2 ] && grep -q 'rule "ZeRO stage 0 or 1"' "$tmp/err" || bad "$f with FSDP: $(cat "$tmp/err")"
done

# the torchtitan module's read-back check has teeth: a field torchtitan's dataclasses lack (the
# 0.2 TOML's local_batch_size), a keyword ParallelismConfig lacks, a wrong degree, or an import
# torchtitan no longer has (0.2's JobConfig) fails it
pf=tests/data/plans/llama3-70b-h100.json
for edit in 's/^    config.training.mixed_precision_param = /    config.training.local_batch_size = /' \
	's/^        expert_parallel_degree=1,/        pipeline_parallel_microbatch_size=1,/' \
	's/^        tensor_parallel_degree=8,/        tensor_parallel_degree=4,/' \
	's/^from torchtitan.config import CompileConfig, ParallelismConfig$/from torchtitan.config import CompileConfig, JobConfig, ParallelismConfig/'; do
	sed "$edit" "$G/llama3-70b-h100/torchtitan" >"$tmp/tt-bad.py"
	cmp -s "$tmp/tt-bad.py" "$G/llama3-70b-h100/torchtitan" && bad "edit $edit changed nothing"
	python3 tests/cli/emit_check.py torchtitan "$pf" "$tmp/tt-bad.py" >/dev/null 2>&1 &&
		bad "torchtitan read-back check passed a module edited with $edit"
done

# the Megatron-Bridge read-back check has teeth: a key no ConfigContainer section has (Megatron-LM's
# flag spelling), or a wrong degree, fails it
for edit in 's/^\tmodel.sequence_parallel=/\tmodel.sequence_parallel_enabled=/' \
	's/^\tmodel.tensor_model_parallel_size=8$/\tmodel.tensor_model_parallel_size=4/'; do
	sed "$edit" "$G/llama3-70b-h100/megatron-bridge" >"$tmp/mb-bad.sh"
	cmp -s "$tmp/mb-bad.sh" "$G/llama3-70b-h100/megatron-bridge" && bad "edit $edit changed nothing"
	PATH="$tmp/bin:$PATH" ARGV_OUT="$tmp/argv" bash "$tmp/mb-bad.sh" || bad "edited script failed"
	python3 tests/cli/emit_check.py megatron-bridge "$pf" "$tmp/mb-bad.sh" "$tmp/argv" >/dev/null 2>&1 &&
		bad "megatron-bridge read-back check passed a script edited with $edit"
done

# names go into comments and quoted strings: a plan whose model or hw name could end them is
# refused, naming the file and the JSON path
for pf in tests/data/bad-plans/model-newline.json tests/data/bad-plans/hw-quote.json; do
	"$P" emit --plan "$pf" --format megatron -o "$tmp/never" 2>"$tmp/err"
	rc=$?
	key=model
	case $pf in *hw-quote*) key=hw ;; esac
	[ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "$pf: $key: .*not allowed in a name" "$tmp/err" ||
		bad "$pf: exit $rc: $(cat "$tmp/err")"
	[ ! -e "$tmp/never" ] || bad "$pf: output written"
done
[ ! -e /tmp/PWNED-parplan ] || bad "a plan name ran a command"

# malformed plans: exit 2, one line naming the file
for pf in tests/data/bad-plans/*.json; do
	n=$((n + 1))
	"$P" emit --plan "$pf" --format megatron -o "$tmp/never" 2>"$tmp/err"
	rc=$?
	[ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -qF "$pf" "$tmp/err" ||
		bad "$pf: exit $rc: $(cat "$tmp/err")"
	[ ! -e "$tmp/never" ] || bad "$pf: output written"
done
"$P" emit --plan "$tmp/missing.json" --format megatron 2>"$tmp/err"
[ $? -eq 2 ] && grep -qF "$tmp/missing.json" "$tmp/err" || bad "missing plan"
"$P" emit --plan tests/data/plans/llama3-8b-p1.json --format fortran 2>"$tmp/err"
[ $? -eq 2 ] && grep -q 'unknown format "fortran"' "$tmp/err" || bad "unknown format"
"$P" emit --plan tests/data/plans/llama3-8b-p1.json 2>/dev/null
[ $? -eq 2 ] || bad "missing --format accepted"
for twice in "--plan tests/data/plans/llama3-70b-h100.json" "--format nemo1" "-o $tmp/twice" \
	"--zero-stage 1" "--recompute-num-layers 1"; do
	# shellcheck disable=SC2086
	"$P" emit --plan tests/data/plans/llama3-8b-p1.json --format megatron-deepspeed -o "$tmp/twice" \
		--zero-stage 0 --recompute-num-layers 1 $twice 2>"$tmp/err"
	rc=$?
	[ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "given twice" "$tmp/err" ||
		bad "${twice%% *} twice: exit $rc: $(cat "$tmp/err")"
	[ ! -e "$tmp/twice" ] || { bad "${twice%% *} twice: output written"; rm -f "$tmp/twice"; }
done
"$P" emit --plan tests/data/plans/llama3-8b-p1.json --format deepspeed --zero-stage 4 2>/dev/null
[ $? -eq 2 ] || bad "--zero-stage 4 accepted"

# an option the format does not use is refused naming the flag (nothing written), never ignored
for fo in "megatron --zero-stage 1" "megatron-bridge --zero-stage 1" "svg --zero-stage 0" \
	"torchtitan --recompute-num-layers 1" "nanotron --recompute-num-layers 1" \
	"deepspeed --recompute-num-layers 2" "megatron --compare tests/data/plans/llama3-8b-p1.json"; do
	# shellcheck disable=SC2086
	set -- $fo
	"$P" emit --plan tests/data/plans/llama3-8b-p1.json --format "$@" -o "$tmp/never" 2>"$tmp/err"
	rc=$?
	[ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] &&
		grep -qF -- "$2: format $1 does not use it" "$tmp/err" ||
		bad "$fo: exit $rc: $(cat "$tmp/err")"
	[ ! -e "$tmp/never" ] || { bad "$fo: output written"; rm -f "$tmp/never"; }
done
# ... and taken where the launcher uses it
for fo in "deepspeed --zero-stage 1" "nanotron --zero-stage 1" "megatron-deepspeed --zero-stage 1" \
	"megatron --recompute-num-layers 2" "nemo1 --recompute-num-layers 2" \
	"megatron-bridge --recompute-num-layers 2"; do
	# shellcheck disable=SC2086
	"$P" emit --plan tests/data/plans/llama3-8b-p1.json --format $fo -o "$tmp/ok" 2>"$tmp/err" ||
		bad "$fo refused: $(cat "$tmp/err")"
done
grep -q "model.recompute_num_layers=2" "$tmp/ok" ||
	bad "--recompute-num-layers 2 not in the megatron-bridge script"

# interleaving with p = 2: current Megatron-LM and Megatron-Bridge take it (p2p overlap), NeMo
# 1.x does not
p2_plan 2 "$tmp/p2v2.json" || bad "making the p = 2 plan"
for f in megatron megatron-bridge; do
	"$P" emit --plan "$tmp/p2v2.json" --format $f -o "$tmp/p2v2.sh" 2>"$tmp/err" || bad "p = 2 interleaved refused by $f: $(cat "$tmp/err")"
	grep -q -- "no-overlap-p2p" "$tmp/p2v2.sh" && bad "$f turns p2p overlap off"
done
grep -q "model.overlap_p2p_comm=true" "$tmp/p2v2.sh" || grep -q "comm_overlap" "$tmp/p2v2.sh" ||
	bad "megatron-bridge p = 2 interleaved without p2p overlap"

# a failed emit leaves an existing output untouched, and no temp files
echo keep >"$tmp/keep"
"$P" emit --plan tests/data/plans/gpt3-175b-1024.json --format nanotron -o "$tmp/keep" 2>/dev/null
[ "$(cat "$tmp/keep")" = keep ] || bad "failed emit overwrote its -o file"
if ls "$tmp"/*.tmp.* >/dev/null 2>&1; then bad "temp file left"; fi

# the report lists runner-ups with how much slower or faster they are, as positive percentages
A=tests/data/plans/llama3-70b-h100.json B=tests/data/plans/llama3-70b-h100-p8.json
want() {
	python3 -c '
import json, sys
a = json.load(open(sys.argv[1]))["predicted"]["iteration_s"]
b = json.load(open(sys.argv[2]))["predicted"]["iteration_s"]
r = 100 * (b / a - 1)
print("%.4g s, " % b + ("as fast" if abs(r) < 0.05 else
                        "%.1f%% %s" % (abs(r), "slower" if r > 0 else "faster")))' "$1" "$2"
}
for pair in "$A $B" "$B $A" "$A $A"; do
	# shellcheck disable=SC2086
	set -- $pair
	"$P" emit --plan "$1" --format report --compare "$2" >"$tmp/report" || bad "report --compare"
	w=$(want "$1" "$2")
	grep -q "^  2\. t 8 x p [48] x d [24], .*: $w\$" "$tmp/report" ||
		bad "report runner-up line: $(grep '^  2\.' "$tmp/report"), expected ...: $w"
	case $w in *-* | *+*) bad "signed percentage: $w" ;; esac
done
grep -q "faster" "$tmp/report" && bad "a plan compared with itself is not faster"
"$P" emit --plan "$A" --format report --compare "$B" | grep -q "% slower$" || bad "p 8 is slower"
"$P" emit --plan "$B" --format report --compare "$A" | grep -q "% faster$" || bad "p 4 is faster"
# a runner-up for another model: refused, naming it
"$P" emit --plan "$A" --format report --compare tests/data/plans/llama3-8b-p1.json \
	-o "$tmp/never" 2>"$tmp/err"
rc=$?
[ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] &&
	grep -q "^parplan: tests/data/plans/llama3-8b-p1.json: model: " "$tmp/err" ||
	bad "--compare with another model: exit $rc: $(cat "$tmp/err")"
[ ! -e "$tmp/never" ] || bad "--compare with another model: output written"

# a ZeRO-3 / FSDP plan (issue 16): DeepSpeed stage 3 with overlapped, bucketed communication and
# prefetch; torchtitan shards over all 8 ranks (data_parallel_shard_degree), replicating over none;
# HSDP shards over 4 and replicates over 2; DeepSpeed refuses stage 3 with its pipeline engine
"$P" cost --model models/llama3-8b.json --hw hwprofiles/dgx-h100.json --t 1 --p 1 --d 8 --micro-batch 1 \
	--global-batch 64 --fsdp --recompute selective -o "$tmp/fsdp.json" >/dev/null || bad "fsdp plan"
"$P" emit --plan "$tmp/fsdp.json" --format deepspeed -o "$tmp/ds.json" || bad "deepspeed stage 3"
python3 -c "
import json; z = json.load(open('$tmp/ds.json'))['zero_optimization']
assert z['stage'] == 3 and z['overlap_comm'] is True and z['stage3_prefetch_bucket_size'] > 0, z
" || bad "ds_config of a ZeRO-3 plan"
"$P" emit --plan "$tmp/fsdp.json" --format torchtitan -o "$tmp/tt.py" || bad "torchtitan fsdp"
grep -q "data_parallel_shard_degree=8," "$tmp/tt.py" && grep -q "data_parallel_replicate_degree=1," "$tmp/tt.py" ||
	bad "torchtitan degrees of an FSDP plan: $(grep degree "$tmp/tt.py")"
"$P" cost --model models/llama3-8b.json --hw hwprofiles/dgx-h100.json --t 1 --p 1 --d 8 --micro-batch 1 \
	--global-batch 64 --fsdp --hsdp-shard 4 -o "$tmp/hsdp.json" >/dev/null || bad "hsdp plan"
"$P" emit --plan "$tmp/hsdp.json" --format torchtitan -o "$tmp/tt2.py" || bad "torchtitan hsdp"
grep -q "data_parallel_shard_degree=4," "$tmp/tt2.py" && grep -q "data_parallel_replicate_degree=2," "$tmp/tt2.py" ||
	bad "torchtitan degrees of an HSDP plan: $(grep degree "$tmp/tt2.py")"
"$P" cost --model models/llama3-8b.json --hw hwprofiles/dgx-h100.json --t 1 --p 2 --d 4 --micro-batch 1 \
	--global-batch 64 --zero 3 -o "$tmp/z3pp.json" >/dev/null || bad "zero 3 pp plan"
"$P" emit --plan "$tmp/z3pp.json" --format deepspeed -o "$tmp/never.json" 2>"$tmp/err" && bad "deepspeed took ZeRO-3 with p = 2"
grep -q "no ZeRO 2/3 with pipeline parallelism" "$tmp/err" || bad "deepspeed refusal: $(cat "$tmp/err")"

echo "emit: $n emits checked"
exit $fail
