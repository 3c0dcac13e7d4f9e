#!/bin/sh
# Files parplan writes (docs/reliability.md, "Files parplan writes"): a new file gets 0666 less
# the umask (0777 less the umask for a launcher script), a replaced file keeps its mode; symbolic
# links are written through (a dangling one creates its target) and a loop is refused; no
# temporary file is left behind; names are checked where a model or a plan is made, so that
# whatever `model` and `cost -o` / `search -o` accept, `emit` accepts too.
set -u
P=${PARPLAN:?PARPLAN must name the parplan binary}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
mode() { stat -c %a "$1"; }
PL=tests/data/plans/llama3-8b-p1.json
G=tests/data/tiny-gpt.json
H=hwprofiles/dgx-a100-80g.json
COST="--t 2 --p 2 --d 2 --micro-batch 2 --global-batch 16"

# one line on stderr, exit 2, naming $3 ($1: what was run, $2: its exit status)
refused() {
	[ "$2" -eq 2 ] || bad "$1: exit $2, expected 2"
	[ "$(wc -l <"$tmp/err")" -eq 1 ] || bad "$1: not one line: $(cat "$tmp/err")"
	grep -qF -- "$3" "$tmp/err" || bad "$1: message does not name $3: $(cat "$tmp/err")"
}

# ---- modes ----------------------------------------------------------------------------------
d=$tmp/modes
mkdir "$d"
for um in 027 022 077; do
	(
		umask $um
		"$P" emit --plan $PL --format megatron -o "$d/m$um.sh" &&
			"$P" emit --plan $PL --format megatron-deepspeed -o "$d/md$um.sh" &&
			"$P" emit --plan $PL --format report -o "$d/r$um.txt" &&
			"$P" cost --model $G --hw $H $COST -o "$d/p$um.json" >/dev/null &&
			"$P" model gpt --name m --layers 2 --hidden 64 --heads 4 --seq 32 --vocab 100 \
				-o "$d/g$um.json"
	) || bad "writes under umask $um"
done
for f in m027.sh:750 md027.sh:750 r027.txt:640 p027.json:640 g027.json:640 \
	m022.sh:755 md022.sh:755 r022.txt:644 p022.json:644 g022.json:644 \
	m077.sh:700 r077.txt:600 p077.json:600; do
	[ "$(mode "$d/${f%:*}")" = "${f#*:}" ] || bad "${f%:*}: mode $(mode "$d/${f%:*}"), expected ${f#*:}"
done
# a file that exists keeps its mode, whatever the umask says, and gets the new contents
echo old >"$d/keep.sh" && chmod 700 "$d/keep.sh"
echo old >"$d/keep.txt" && chmod 604 "$d/keep.txt"
echo old >"$d/keep.json" && chmod 755 "$d/keep.json"
(
	umask 027
	"$P" emit --plan $PL --format megatron -o "$d/keep.sh" &&
		"$P" emit --plan $PL --format report -o "$d/keep.txt" &&
		"$P" cost --model $G --hw $H $COST -o "$d/keep.json" >/dev/null
) || bad "writes over existing files"
for f in keep.sh:700 keep.txt:604 keep.json:755; do
	[ "$(mode "$d/${f%:*}")" = "${f#*:}" ] || bad "${f%:*}: mode $(mode "$d/${f%:*}"), expected ${f#*:} (kept)"
	grep -q '^old$' "$d/${f%:*}" && bad "${f%:*}: not rewritten"
done
[ -x "$d/m027.sh" ] && [ ! -x "$d/r027.txt" ] || bad "a launcher script is not executable, or a report is"

# ---- symbolic links -------------------------------------------------------------------------
d=$tmp/links
mkdir "$d"
# written through to an existing file: the link stays, the file keeps its mode
echo old >"$d/real.txt" && chmod 600 "$d/real.txt"
ln -s real.txt "$d/to-real"
"$P" emit --plan $PL --format report -o "$d/to-real" || bad "-o through a link"
[ -L "$d/to-real" ] || bad "-o replaced a link to a file"
grep -q "GPUs" "$d/real.txt" && [ "$(mode "$d/real.txt")" = 600 ] || bad "link target not written or mode lost"
# a chain of links, relative and absolute
ln -s "$d/to-real" "$d/chain2"
ln -s chain2 "$d/chain1"
echo old >"$d/real.txt"
"$P" emit --plan $PL --format report -o "$d/chain1" || bad "-o through a chain of links"
[ -L "$d/chain1" ] && [ -L "$d/chain2" ] && grep -q "GPUs" "$d/real.txt" || bad "chain of links not written through"
# a dangling link creates the file it names (its folder exists)
mkdir "$d/sub"
ln -s sub/made.txt "$d/dangling"
(umask 022 && "$P" emit --plan $PL --format report -o "$d/dangling") || bad "-o onto a dangling link"
[ -L "$d/dangling" ] || bad "-o replaced a dangling link"
[ -f "$d/sub/made.txt" ] && grep -q "GPUs" "$d/sub/made.txt" && [ "$(mode "$d/sub/made.txt")" = 644 ] ||
	bad "the dangling link's target was not created"
# a dangling link into a missing folder: refused, nothing made
ln -s nowhere/x.txt "$d/into-nowhere"
"$P" emit --plan $PL --format report -o "$d/into-nowhere" 2>"$tmp/err"
refused "-o onto a link into a missing folder" $? "$d/into-nowhere"
[ -L "$d/into-nowhere" ] && [ ! -e "$d/nowhere" ] || bad "a link into a missing folder was replaced"
# loops: one link, two links, a loop on the way to the file; refused, links kept
ln -s self "$d/self"
ln -s loop-b "$d/loop-a"
ln -s loop-a "$d/loop-b"
for target in "$d/self" "$d/loop-a" "$d/self/x.txt"; do
	"$P" emit --plan $PL --format report -o "$target" 2>"$tmp/err"
	refused "-o $target (a loop)" $? "$target: symbolic links form a loop"
	"$P" cost --model $G --hw $H $COST -o "$target" >/dev/null 2>"$tmp/err"
	refused "cost -o $target (a loop)" $? "$target"
done
[ -L "$d/self" ] && [ -L "$d/loop-a" ] && [ -L "$d/loop-b" ] || bad "a link of a loop was replaced"
# a device or a pipe is written into, also through the links of /proc that name no path
"$P" emit --plan $PL --format report -o /dev/stdout | grep -q "GPUs" || bad "-o /dev/stdout into a pipe"
"$P" emit --plan $PL --format report -o /dev/null && [ -c /dev/null ] || bad "-o /dev/null"
# a folder is refused
"$P" emit --plan $PL --format report -o "$d/sub" 2>"$tmp/err"
refused "-o onto a folder" $? "$d/sub"
# nothing but what was asked for: no temporary or backup files anywhere
left=$(find "$tmp" -name '*.tmp.*' -o -name '*.bak.*' | head -3)
[ -z "$left" ] || bad "temporary files left: $left"

# ---- names: checked where a model or a plan is made -----------------------------------------
d=$tmp/names
mkdir "$d"
for name in 'a"b' "a'b" 'a b' "x
touch PWNED" 'a#b' '$(id)'; do
	"$P" model gpt --name "$name" --layers 2 --hidden 64 --heads 4 --seq 32 --vocab 100 \
		-o "$d/g.json" 2>"$tmp/err"
	refused "model --name '$name'" $? "--name: "
	[ ! -e "$d/g.json" ] || bad "model --name '$name' wrote a graph"
done
# every character allowed: model, cost -o, search -o, emit all take it
"$P" model gpt --name 'Gpt.tiny_2+x-9' --layers 2 --hidden 64 --heads 4 --seq 32 --vocab 100 \
	-o "$d/ok.json" || bad "model with an allowed name"
"$P" cost --model "$d/ok.json" --hw $H $COST -o "$d/ok-plan.json" >/dev/null || bad "cost -o of an allowed name"
"$P" search --model "$d/ok.json" --hw $H --gpus 8 --global-batch 16 -o "$d/ok-search.json" >/dev/null ||
	bad "search -o of an allowed name"
for f in ok-plan ok-search; do
	"$P" emit --plan "$d/$f.json" --format report >/dev/null || bad "emit refuses what $f wrote"
done
# a graph or hardware profile made elsewhere with a bad name: no plan made of it
python3 - "$G" "$H" "$d" <<'PY' || bad "making bad-name inputs"
import json, sys
g, h, d = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
g["name"] = 'tiny"gpt'
json.dump(g, open(d + "/bad-graph.json", "w"))
h["name"] = "dgx\nrm -rf /"
json.dump(h, open(d + "/bad-hw.json", "w"))
PY
"$P" cost --model "$d/bad-graph.json" --hw $H $COST -o "$d/p1.json" >/dev/null 2>"$tmp/err"
refused "cost -o of a graph named with a quote" $? "$d/bad-graph.json: name: character 34"
"$P" search --model "$d/bad-graph.json" --hw $H --gpus 8 --global-batch 16 -o "$d/p2.json" >/dev/null 2>"$tmp/err"
refused "search -o of a graph named with a quote" $? "$d/bad-graph.json: name: "
"$P" cost --model $G --hw "$d/bad-hw.json" $COST -o "$d/p3.json" >/dev/null 2>"$tmp/err"
refused "cost -o of a hardware profile named with a newline" $? "$d/bad-hw.json: name: character 10"
for f in p1 p2 p3; do
	[ ! -e "$d/$f.json" ] || bad "a plan $f.json was written of a bad name"
done

[ $fail -eq 0 ] && echo "files: modes, symbolic links and names as documented"
exit $fail
