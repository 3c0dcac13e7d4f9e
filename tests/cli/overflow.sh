#!/bin/sh
# Products of dimensions are checked where they are formed (issue 10, point 2): plans whose
# t*p*d, p*v or micro-batch*d do not fit, given as options or in a plan file, and models too
# large to describe, each give exit 2 and one line naming the product and its factors, with no
# sanitizer report (`make asan` runs this under UBSan, where a wrapped int aborts).
set -u
P=${PARPLAN:?PARPLAN must name the parplan binary}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0 n=0
M="--model models/gpt3-175b.json --hw hwprofiles/dgx-a100-80g.json"

expect_bad() { # text stderr must contain, then the command
	want=$1
	shift
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	lines=$(wc -l <"$tmp/err")
	n=$((n + 1))
	if [ "$rc" -ne 2 ] || [ "$lines" -ne 1 ] || ! grep -qF -- "$want" "$tmp/err" ||
		! grep -q '^parplan: ' "$tmp/err" || grep -qE 'Sanitizer|runtime error' "$tmp/err"; then
		echo "FAIL: $* -> exit $rc, $lines stderr lines, expected \"$want\":"
		head -c 600 "$tmp/err"
		fail=1
	fi
}

# p*v: 2^40 model chunks used to wrap an int (p*v = 0 in the message, UBSan in make asan)
expect_bad "p*v = 1048576*1048576 overflows" \
	"$P" cost $M --t 1 --p 1048576 --d 1 --micro-batch 1 --global-batch 8 --virtual-stages 1048576
expect_bad "p*v = 1048576*1048576 overflows" \
	"$P" cost $M --t 1 --p 1048576 --d 1 --micro-batch 1 --global-batch 8 --virtual-stages 1048576 \
	--schedule interleaved --gpus 1048576
expect_bad "p*v = 65536*65536 overflows" \
	"$P" cost $M --t 1 --p 65536 --d 1 --micro-batch 1 --global-batch 8 --virtual-stages 65536
# t*p*d: 2^64 wrapped even a long long
expect_bad "t*p*d = 1048576*1048576*16777216 overflows" \
	"$P" cost $M --t 1048576 --p 1048576 --d 16777216 --micro-batch 1 --global-batch 8
expect_bad "t*p*d = 1048576*1048576*16777216 overflows" \
	"$P" cost $M --t 1048576 --p 1048576 --d 16777216 --micro-batch 1 --global-batch 8 --gpus 1024
expect_bad "t*p*d = 65536*65536*1 overflows" \
	"$P" cost $M --t 65536 --p 65536 --d 1 --micro-batch 1 --global-batch 8
expect_bad "t*p*d = 2048*1024*1024 overflows" \
	"$P" cost $M --t 2048 --p 1024 --d 1024 --micro-batch 1 --global-batch 1024
# micro-batch*d: 2^48 samples per step
expect_bad "micro-batch*d = 281474976710656" \
	"$P" cost $M --t 1 --p 1 --d 16777216 --micro-batch 16777216 --global-batch 1073741824
# the same from a plan file: degrees whose product passes the limit
"$P" cost $M --t 8 --p 8 --d 16 --micro-batch 1 --global-batch 1536 -o "$tmp/plan.json" >/dev/null || fail=1
python3 - "$tmp/plan.json" "$tmp/huge.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
p["global"].update(t=1048576, p=1048576, d=1048576)
json.dump(p, open(sys.argv[2], "w"))
PY
expect_bad "t*p*d" "$P" cost --plan "$tmp/huge.json"
expect_bad "t*p*d" "$P" emit --plan "$tmp/huge.json" --format megatron -o "$tmp/m.sh"
# models whose sizes do not fit: refused by the flag's own limit (cmd_model.c)
expect_bad "--hidden" "$P" model gpt --name big --layers 2 --hidden 1099511627776 --heads 1 \
	--seq 1099511627776 --vocab 1099511627776 -o "$tmp/big.json"
expect_bad "--hidden" "$P" model llama --name big --layers 2 --hidden 1099511627776 \
	--heads 1099511627776 --kv-heads 1099511627776 --ffn 1099511627776 --seq 1 --vocab 1 \
	-o "$tmp/big.json"

[ "$fail" -eq 0 ] && echo "overflow: $n cases ok"
exit "$fail"
