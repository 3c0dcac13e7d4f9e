#!/bin/sh
# `parplan model hf`: the shipped Hugging Face configs give their published parameter totals
# (within 0.5%), carry their settings into the graph, and configs parplan cannot honour are
# refused with exit 2 and one stderr line naming the file and the key.
set -u
P=${PARPLAN:?PARPLAN must name the parplan binary}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0 n=0

# name, published parameter total, source (model cards on the Hugging Face Hub: safetensors
# totals; Gemma 3 27B: Gemma 3 technical report 2025, Table 1, 1,416M embedding + 25,600M
# non-embedding parameters, the 417M vision encoder left out)
while read -r name total; do
	"$P" model hf "models/hf/$name/config.json" --seq 8192 -o "$tmp/$name.json" || { echo "FAIL: $name"; fail=1; continue; }
	got=$("$P" info --model "$tmp/$name.json" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["params"])')
	if ! python3 -c "import sys; sys.exit(abs($got / $total - 1) > 0.005)"; then
		echo "FAIL: $name has $got parameters, published $total"
		fail=1
	fi
	n=$((n + 1))
done <<'T'
llama-3.1-8b 8030261248
llama-3.1-70b 70553706496
llama-3.1-405b 405853388800
mistral-7b-v0.3 7248023552
qwen2.5-7b 7615616512
qwen3-8b 8190735360
qwen3-32b 32762123264
gemma-2-9b 9241705984
gemma-3-27b 27016000000
T
[ "$n" -eq "$(ls -d models/hf/*/ | wc -l)" ] || { echo "FAIL: a shipped config has no published total here"; fail=1; }

# the settings a launcher needs travel in the graph's "model" object
python3 - "$tmp" <<'PY' || fail=1
import json, sys
d = sys.argv[1]
g = lambda n: json.load(open(f"{d}/{n}.json"))
m = g("llama-3.1-8b")["model"]
assert m["architecture"] == "LlamaForCausalLM" and m["rope_theta"] == 500000, m
assert m["rope_scaling"] == {"type": "llama3", "factor": 8, "low_freq_factor": 1,
                             "high_freq_factor": 4, "original_max_positions": 8192}, m
assert m["norm"] == "rmsnorm" and m["norm_eps"] == 1e-5 and m["activation"] == "silu", m
assert m["tied_embeddings"] is False and m["qkv_bias"] is False, m
q = g("qwen2.5-7b")
assert q["model"]["qkv_bias"] is True and q["model"]["out_bias"] is False, q["model"]
assert any(t["name"] == "l0.attn.qkv.bias" for t in q["tensors"])
q3 = g("qwen3-32b")
assert q3["model"]["qk_norm"] is True and q3["dims"]["head_dim"] == 128 and q3["dims"]["hidden"] == 5120
assert any(t["name"] == "l0.attn.q_norm.g" for t in q3["tensors"])
gm = g("gemma-2-9b")
assert gm["model"]["tied_embeddings"] is True and gm["model"]["sliding_window"] == 4096, gm["model"]
wins = {o["layer"]: o.get("window", 0) for o in gm["ops"] if o["type"] == "attention"}
assert all(wins[l] == (4096 if l % 2 == 0 else 0) for l in range(42)), wins
g3 = g("gemma-3-27b")
wins = {o["layer"]: o.get("window", 0) for o in g3["ops"] if o["type"] == "attention"}
assert sum(1 for w in wins.values() if w == 0) == 10 and wins[5] == 0 and wins[0] == 1024, wins
assert g3["model"]["rope_local_theta"] == 10000 and g3["model"]["rope_scaling"]["type"] == "linear"
PY

# the default sequence is the original context: Llama 3.1's 8192, not its scaled 131072
"$P" model hf models/hf/llama-3.1-8b/config.json | grep -q '"seq":	8192' || { echo "FAIL: default seq"; fail=1; }
# sliding windows cut attention FLOPs: Gemma 2 at 8192 tokens does less than at full attention
fw=$("$P" info --model "$tmp/gemma-2-9b.json" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["flops_per_token"])')
python3 - "$tmp/gemma-2-9b.json" >"$tmp/nowin.json" <<'PY'
import json, sys
g = json.load(open(sys.argv[1]))
for o in g["ops"]:
    o.pop("window", None)
print(json.dumps(g))
PY
ff=$("$P" info --model "$tmp/nowin.json" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["flops_per_token"])')
python3 -c "import sys; sys.exit(not ($fw < $ff))" || { echo "FAIL: window does not cut FLOPs ($fw vs $ff)"; fail=1; }

expect_bad() { # key the message must name, then the config's JSON
	key=$1
	printf '%s\n' "$2" >"$tmp/c.json"
	"$P" model hf "$tmp/c.json" -o "$tmp/out.json" >/dev/null 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne 2 ] || [ "$(wc -l <"$tmp/err")" -ne 1 ] || ! grep -qF "$tmp/c.json" "$tmp/err" ||
		! grep -qF "$key" "$tmp/err" || [ -e "$tmp/out.json" ]; then
		echo "FAIL: expected a refusal naming $key, exit $rc:"
		cat "$tmp/err"
		fail=1
	fi
}
base='"model_type": "llama", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 100, "max_position_embeddings": 256'
expect_bad 'architectures[0]' '{"architectures": ["MambaForCausalLM"], '"$base"'}'
expect_bad 'num_local_experts' '{"architectures": ["LlamaForCausalLM"], "num_local_experts": 8, '"$base"'}'
expect_bad 'quantization_config' '{"architectures": ["LlamaForCausalLM"], "quantization_config": {}, '"$base"'}'
expect_bad 'rope_scaling.rope_type' '{"architectures": ["LlamaForCausalLM"], "rope_scaling": {"rope_type": "longrope"}, '"$base"'}'
expect_bad 'attention_dropout' '{"architectures": ["LlamaForCausalLM"], "attention_dropout": 0.1, '"$base"'}'
expect_bad 'model_type' '{"architectures": ["Qwen2ForCausalLM"], '"$base"'}'
expect_bad 'num_attention_heads' '{"architectures": ["LlamaForCausalLM"], "num_attention_heads": 3, "model_type": "llama", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "vocab_size": 100}'
expect_bad 'attn_logit_softcapping' '{"architectures": ["LlamaForCausalLM"], "attn_logit_softcapping": 50, '"$base"'}'
expect_bad 'hidden_size' '{"architectures": ["LlamaForCausalLM"], "hidden_size": "big", "model_type": "llama", "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 100}'
# --seq beyond the model's positions, and a name that cannot be a model's
printf '{"architectures": ["LlamaForCausalLM"], %s}\n' "$base" >"$tmp/ok.json"
"$P" model hf "$tmp/ok.json" --seq 512 -o "$tmp/o.json" 2>"$tmp/err"
[ $? -eq 2 ] && grep -q -- '--seq' "$tmp/err" && [ ! -e "$tmp/o.json" ] || { echo "FAIL: --seq 512 > 256 accepted"; fail=1; }
"$P" model hf "$tmp/ok.json" --name 'My Llama/8B' -o "$tmp/o.json" 2>"$tmp/err"
[ $? -eq 2 ] && [ ! -e "$tmp/o.json" ] || { echo "FAIL: bad name accepted"; fail=1; }
"$P" model hf "$tmp/ok.json" -o "$tmp/o.json" && "$P" info --model "$tmp/o.json" | grep -q 'model *ok' || { echo "FAIL: name from the file"; fail=1; }
echo "model_hf: $n configs within 0.5% of their published parameter totals"
exit $fail
