#!/bin/sh
# Every malformed file in tests/data/bad/ must give exit 2 and exactly one line on stderr that
# names the file, with no sanitizer report; plus a 50 MB one-string file made here, and failed
# commands that must leave no output file behind.
set -u
P=${PARPLAN:?PARPLAN must name the parplan binary}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0 n=0

expect_bad() { # file, then the command
	f=$1
	shift
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	lines=$(wc -l <"$tmp/err")
	n=$((n + 1))
	if [ "$rc" -ne 2 ] || [ "$lines" -ne 1 ] || ! grep -qF "$f" "$tmp/err" ||
		grep -qE 'Sanitizer|runtime error' "$tmp/err"; then
		echo "FAIL: $* -> exit $rc, $lines stderr lines:"
		head -c 600 "$tmp/err"
		fail=1
	fi
}

for f in tests/data/bad/graph-*; do expect_bad "$f" "$P" validate --model "$f"; done
for f in tests/data/bad/hw-*; do expect_bad "$f" "$P" validate --hw "$f"; done

# a 50 MB file holding one JSON string, generated rather than committed
big="$tmp/big-string.json"
python3 -c "import sys; sys.stdout.write('\"' + 'a' * (50 << 20) + '\"')" >"$big"
expect_bad "$big" "$P" validate --model "$big"
expect_bad "$big" "$P" validate --hw "$big"
expect_bad "$tmp/missing.json" "$P" validate --model "$tmp/missing.json"

# a failed command writes nothing
out="$tmp/never.json"
"$P" model gpt --name x --layers 2 --hidden 100 --heads 3 --seq 8 --vocab 10 -o "$out" 2>/dev/null
[ $? -eq 2 ] && [ ! -e "$out" ] || { echo "FAIL: failed model command left $out"; fail=1; }
if ls "$tmp"/*.tmp.* >/dev/null 2>&1; then echo "FAIL: temp file left"; fail=1; fi

count=$(ls tests/data/bad | wc -l)
[ "$count" -ge 40 ] || { echo "FAIL: only $count bad files"; fail=1; }
echo "bad_inputs: $n malformed inputs checked"
exit $fail
