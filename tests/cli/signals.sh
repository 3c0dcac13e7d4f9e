#!/bin/sh
# Anytime search (issue 10, point 2): SIGINT, SIGTERM and SIGHUP alike end a long search of every
# method with the best plan found so far (exit 0, the plan file written and loadable, marked not
# optimal, "interrupted by SIG..." on stderr), or, when the signal comes before any plan, with
# one plain line (exit 1) instead of "found no plan that fits".  No wall-clock bound is asserted:
# the searches below run for tens of seconds to minutes uninterrupted, a signal is sent once a
# search has used 1.2 s of CPU, and a watchdog only keeps a broken build from hanging the suite.
set -u
P=${PARPLAN:?PARPLAN must name the parplan binary}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
die() { echo "FAIL: $*"; fail=1; }
H=hwprofiles/dgx-h100.json

# 512 layers on 5040 GPUs (many stage counts divide it), batch 10080: the exhaustive search and
# the ILP's space walk take about 25 s of CPU each; MCMC runs to its 600 s time limit
$P model gpt --name sig512 --layers 512 --hidden 4096 --heads 32 --seq 2048 --vocab 51200 \
	-o "$tmp/m.json" || die "model"
S="$P search --model $tmp/m.json --hw $H --gpus 5040 --global-batch 10080 --top 1"

# wait until a process has used 1.2 s of CPU (loading takes 0.4 s, the first plan comes 0.2 s
# into the search): wait_busy PID TICKS
. "$(dirname "$0")/lib/busy.sh"

# A batch scheduler sends SIGTERM or SIGHUP to a process that has them at their defaults; parplan
# keeps a signal ignored when it was ignored at its start (nohup), so when this script itself runs
# with SIGHUP or SIGTERM ignored (nohup make check), the searches start through $DFL, which puts
# both back to their defaults first and then becomes the search (same pid).
cat >"$tmp/dfl" <<'PY'
import os, signal, sys
for s in (signal.SIGHUP, signal.SIGTERM):
    signal.signal(s, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])
PY
DFL="python3 $tmp/dfl"

# a watchdog: in 300 s run "$@" (unless watchdog_off comes first; no output, no stray sleep)
watchdog() {
	(
		trap 'kill $s 2>/dev/null; exit 0' TERM
		sleep 300 &
		s=$!
		wait $s
		"$@"
	) >/dev/null 2>&1 &
	wd=$!
}
watchdog_off() {
	kill "$wd" 2>/dev/null
	wait "$wd" 2>/dev/null
}

# send $2 to $1 and wait for it (killed by the watchdog if it never ends); sets rc
signal_and_wait() {
	kill -"$2" "$1"
	watchdog kill -KILL "$1"
	wait "$1"
	rc=$?
	watchdog_off
}

for m in exhaustive ilp mcmc; do
	for sig in INT TERM HUP; do
		lim=
		[ $m = mcmc ] && lim="--time-limit 600"
		rm -f "$tmp/plan.json"
		$DFL $S --method $m $lim -o "$tmp/plan.json" >"$tmp/out" 2>"$tmp/err" &
		pid=$!
		wait_busy $pid $((hz * 6 / 5))
		signal_and_wait $pid $sig
		what="$m, SIG$sig"
		[ $rc -eq 0 ] || { die "$what: exit $rc: $(head -c 300 "$tmp/err")"; continue; }
		[ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "^parplan: search interrupted by SIG$sig: the best plan found so far" "$tmp/err" ||
			die "$what: stderr: $(head -c 300 "$tmp/err")"
		grep -q "stopped early: interrupted (best so far)" "$tmp/out" || die "$what: summary: $(tail -1 "$tmp/out")"
		[ "$(grep -c '^1 ' "$tmp/out")" -eq 1 ] || die "$what: no plan in the table"
		$P cost --model "$tmp/m.json" --hw $H --plan "$tmp/plan.json" --json >"$tmp/cost.json" ||
			die "$what: the plan written does not load"
		python3 - "$tmp/plan.json" "$m" <<'PY' || die "$what: plan file"
import json, sys
s = json.load(open(sys.argv[1]))["search"]
assert s["method"] == sys.argv[2], s
assert s["optimal"] is False, s
PY
	done
done

# the signal while the inputs load (the model comes through a FIFO, which the search opens only
# after it catches the signals): no plan yet, one plain line, exit 1
mkfifo "$tmp/fifo" || die "mkfifo"
for sig in INT TERM HUP; do
	$DFL $P search --model "$tmp/fifo" --hw hwprofiles/dgx-a100-80g.json --gpus 1024 --global-batch 1536 \
		-o "$tmp/early.json" >"$tmp/out" 2>"$tmp/err" &
	pid=$!
	watchdog sh -c "kill -KILL $pid; exec cat '$tmp/fifo'" # should the search never open it
	exec 3>"$tmp/fifo" # returns once the search has opened the FIFO, its handlers in place
	watchdog_off
	kill -$sig $pid
	cat models/gpt3-175b.json >&3 2>/dev/null
	exec 3>&-
	watchdog kill -KILL $pid
	wait $pid
	rc=$?
	watchdog_off
	[ $rc -eq 1 ] || die "SIG$sig while loading: exit $rc: $(head -c 300 "$tmp/err")"
	[ "$(cat "$tmp/err")" = "parplan: search interrupted before any plan was found" ] ||
		die "SIG$sig while loading: stderr: $(head -c 300 "$tmp/err")"
	[ -e "$tmp/early.json" ] && die "SIG$sig while loading: a plan file was written"
	[ -s "$tmp/out" ] && die "SIG$sig while loading: stdout: $(head -c 300 "$tmp/out")"
done

# a time limit far below the search's time cuts every method with its best so far and says so
# (its accuracy is measured by hand, see docs/performance.md; no clock is asserted here)
for m in exhaustive ilp mcmc; do
	$P search --model models/gpt3-175b.json --hw hwprofiles/dgx-a100-80g.json --gpus 1024 \
		--global-batch 1536 --method $m --time-limit 0.001 --json -o "$tmp/tl.json" >"$tmp/tl.out" 2>"$tmp/err" ||
		die "$m --time-limit 0.001: exit $?: $(head -c 300 "$tmp/err")"
	[ -s "$tmp/err" ] && die "$m --time-limit 0.001: stderr: $(head -c 300 "$tmp/err")"
	python3 - "$tmp/tl.out" "$tmp/tl.json" <<'PY' || die "$m --time-limit 0.001: not marked as cut short"
import json, sys
r = json.load(open(sys.argv[1]))
s = r["search"]
assert s["stopped"] is True and s["stop_reason"] == "time limit reached" and s["optimal"] is False, s
assert len(r["plans"]) >= 1
assert json.load(open(sys.argv[2]))["search"]["optimal"] is False
PY
done

[ $fail -eq 0 ] && echo "signals: ok"
exit $fail
