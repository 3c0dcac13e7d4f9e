#!/bin/sh
# scripts/check-imports: the tree passes its own rules, docs/architecture.md shows them, and a
# planted violation of each kind (a forbidden include in an old file and in files of families
# that do not exist yet, a print in the library) fails naming the file and the include.
set -u
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
chk=scripts/check-imports

python3 $chk >"$tmp/out" 2>&1 || { bad "the tree breaks its rules"; cat "$tmp/out"; }
python3 $chk --check-doc docs/architecture.md >"$tmp/out" 2>&1 || { bad "docs/architecture.md"; cat "$tmp/out"; }

# a fresh copy of src/ passes, then each planted violation must fail (exit 1) naming it
fresh() { rm -rf "$tmp/root"; mkdir -p "$tmp/root"; cp -r src "$tmp/root/src"; }
expect_fail() { # expect_fail FILE INCLUDE-OR-TOKEN
	python3 $chk "$tmp/root" >"$tmp/out" 2>&1
	rc=$?
	[ "$rc" -eq 1 ] || bad "planted $2 in $1: exit $rc"
	grep -q "$1:[0-9]*: .*\"$2\"" "$tmp/out" || { bad "planted $2 in $1: not named"; cat "$tmp/out"; }
}
fresh
python3 $chk "$tmp/root" >"$tmp/out" 2>&1 || { bad "a clean copy fails"; cat "$tmp/out"; }

fresh; printf '#include "parplan/search.h"\n' >>"$tmp/root/src/cost.c"
expect_fail src/cost.c parplan/search.h                 # cost knows no search
fresh; printf '#include "parplan/cost.h"\n' >>"$tmp/root/src/graph_json.c"
expect_fail src/graph_json.c parplan/cost.h             # loaders know no cost
fresh; printf '#include "search_int.h"\nint x;\n' >"$tmp/root/src/emit_future.c"
expect_fail src/emit_future.c search_int.h              # emitters read plans, not searches
fresh; printf '#include "parplan/emit.h"\n' >"$tmp/root/src/search.c"
expect_fail src/search.c parplan/emit.h                 # a search file that does not exist yet
fresh; printf '#include "cli.h"\n' >"$tmp/root/src/exec/options.c"
expect_fail src/exec/options.c cli.h                    # the split exec stub
fresh; printf '#include "../cli/cli.h"\n' >>"$tmp/root/src/space.c"
expect_fail src/space.c ../cli/cli.h                    # the library never prints
fresh; printf '#include <glpk.h>\n' >>"$tmp/root/src/search_mcmc.c"
expect_fail src/search_mcmc.c glpk.h
fresh; printf '#include <cblas.h>\n' >>"$tmp/root/src/exec/main.c"
expect_fail src/exec/main.c cblas.h                     # BLAS only in the backend files
fresh; printf 'static void f(void) { printf("x"); }\n' >>"$tmp/root/src/settings.c"
expect_fail src/settings.c printf
fresh; printf 'static void f(void) { fputs("x", stderr); }\n' >>"$tmp/root/src/emit_svg.c"
expect_fail src/emit_svg.c stderr

# words in comments and strings are not calls
fresh; printf '/* printf(stderr) */ static const char *s = "exit(1) puts(stdout)";\n' >>"$tmp/root/src/cost.c"
python3 $chk "$tmp/root" >"$tmp/out" 2>&1 || { bad "comment/string taken for a call"; cat "$tmp/out"; }

# the doc must show the rules exactly
sed 's/| cost knows no search: it scores any plan it is given |/| cost may search |/' \
	docs/architecture.md >"$tmp/arch.md"
python3 $chk --check-doc "$tmp/arch.md" >"$tmp/out" 2>&1 && bad "an edited rule table passes --check-doc"

[ "$fail" -eq 0 ] && echo "imports: rules hold, 10 planted violations caught"
exit "$fail"
