#!/bin/sh
# tests/fuzz/run.sh BUILD SECONDS TARGET... - run each libFuzzer harness BUILD/fuzz_TARGET for
# SECONDS seconds (`make fuzz` calls it).  Each starts from a scratch copy of its committed seed
# corpus (tests/fuzz/corpus/TARGET) and regression inputs (tests/fuzz/regressions/TARGET), so
# a run never writes into the repository; libFuzzer first runs every copied input once, so a
# committed crash input fails the run at once.  Logs and any crash input land in
# BUILD/run/TARGET/.  Exit status 1 when any harness crashed, leaked, hit a sanitizer, timed
# out or ran out of memory.
set -u
B=${1:?usage: run.sh BUILD SECONDS TARGET...}
S=${2:?usage: run.sh BUILD SECONDS TARGET...}
shift 2
here=$(dirname "$0")
R=${FUZZ_RUN:-$B/run}
fail=0
# Longest input tried per harness: a little above the largest seed (big inputs slow every run).
max_len() {
	case $1 in
	graph) echo 65536 ;; regress) echo 32768 ;; measurements|exec) echo 16384 ;; *) echo 8192 ;;
	esac
}
stat_of() { sed -n "s/^stat::$2: *//p" "$1" | tail -1; }
for t in "$@"; do
	d=$R/$t
	rm -rf "$d"
	mkdir -p "$d/corpus" "$d/artifacts"
	cp "$here/corpus/$t/"* "$d/corpus/"
	if [ -d "$here/regressions/$t" ]; then cp "$here/regressions/$t/"* "$d/corpus/"; fi
	"$B/fuzz_$t" -max_total_time="$S" -timeout=30 -rss_limit_mb=2048 -max_len="$(max_len "$t")" \
		-dict="$here/dict/$t.dict" -print_final_stats=1 -artifact_prefix="$d/artifacts/" \
		"$d/corpus" >"$d/log" 2>&1
	rc=$?
	cov=$(grep -E '^#[0-9]+' "$d/log" | tail -1 | sed -n 's/.*\(cov: [0-9]*\) \(ft: [0-9]*\).*/\1 \2/p')
	echo "fuzz_$t: exit $rc, $(stat_of "$d/log" number_of_executed_units) runs," \
		"$(stat_of "$d/log" average_exec_per_sec) exec/s, $cov"
	if [ $rc -ne 0 ]; then
		fail=1
		tail -n 40 "$d/log"
		echo "FAIL: fuzz_$t (log $d/log; inputs: $(ls "$d/artifacts" | tr '\n' ' '))"
	fi
done
exit $fail
