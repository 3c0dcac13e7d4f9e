# parplan build.  `make` builds build/libparplan.a and bin/parplan.
# BUILD=dir puts every object and binary under dir (parallel work trees, asan).
CC      ?= gcc
BUILD   ?= build
BIN     ?= bin
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wwrite-strings -Wvla -Wformat=2 -fno-common -Werror
CFLAGS  ?= -O2 -g
CPPFLAGS += -Iinclude -Isrc -D_POSIX_C_SOURCE=200809L
# shipped data (stacks/) is found below the current folder, next to the binary, or here
DATADIR ?= $(abspath .)
$(BUILD)/src/cli/cli_cost.o: CPPFLAGS += -DPP_DATADIR='"$(DATADIR)"'
ALL_CFLAGS = -std=c11 $(WARN) $(CFLAGS) -MMD -MP
PKGS    := libcjson
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lcjson) -lglpk -lm
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lrt -lpthread -lm)

LIB_SRC := $(wildcard src/*.c)
CLI_SRC := $(wildcard src/cli/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
LIB     := $(BUILD)/libparplan.a
PARPLAN := $(BIN)/parplan
TESTS_SRC := $(wildcard tests/check_*.c)
TESTS   := $(TESTS_SRC:tests/%.c=$(BUILD)/tests/%)
HEADERS := $(wildcard include/parplan/*.h)

.PHONY: all deps check test asan check-headers check-imports demo demo-run clean bench models exec exec-cuda calibrate-local \
        fuzz fuzz-build valgrind
all: $(LIB) $(PARPLAN) exec

-include mk/exec.mk
-include mk/fuzz.mk

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(PARPLAN): $(CLI_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(CLI_OBJ) $(LIB) $(LDLIBS)

$(BUILD)/tests/%: tests/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS) $(CHECK_LIBS)

deps:
	@sh scripts/deps.sh

# `make check` and `make demo` first install what is missing (scripts/deps.sh: quick when all is
# there), so both work on a fresh Debian 12 machine; `make test` skips that step.
check: deps
	@$(MAKE) --no-print-directory test

# Every Check suite, then every CLI test script (tests/cli/*.sh) against $(PARPLAN).
test: all $(TESTS) check-headers check-imports
	@pass=0; fail=0; \
	for t in $(TESTS); do echo "== $$t"; if (cd tests && ../$$t); then pass=$$((pass+1)); else echo "FAIL: $$t"; fail=$$((fail+1)); fi; done; \
	for s in tests/cli/*.sh; do echo "== $$s"; \
	  if PARPLAN=$(abspath $(PARPLAN)) BUILD=$(BUILD) BIN=$(BIN) sh $$s; then pass=$$((pass+1)); else echo "FAIL: $$s"; fail=$$((fail+1)); fi; done; \
	echo "suites: $$pass passed, $$fail failed"; \
	test $$fail -eq 0

# The same tests under AddressSanitizer + UBSan, in a separate tree.
asan: deps
	$(MAKE) test BUILD=build-asan BIN=build-asan/bin \
	  CFLAGS="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	  LDFLAGS="-fsanitize=address,undefined" CK_FORK=no ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export CK_FORK ASAN_OPTIONS UBSAN_OPTIONS

check-headers:
	@for h in $(HEADERS); do \
	  printf '#include "%s"\n' "$${h#include/}" | $(CC) $(CPPFLAGS) -std=c11 $(WARN) -x c -c -o /dev/null - || exit 1; \
	  echo "ok $$h"; done

# What each module may include (docs/architecture.md, "Import rules"): fails naming the file
# and the include; also checks that docs/architecture.md shows the rules the script holds.
check-imports:
	@python3 scripts/check-imports && python3 scripts/check-imports --check-doc docs/architecture.md \
	  && echo "ok imports"

# The most useful real command: search the best plan for GPT-3 175B on 1024 A100s, then write
# the Megatron-LM launch script for it.
demo: deps
	@$(MAKE) --no-print-directory demo-run

demo-run: all
	$(PARPLAN) search --model models/gpt3-175b.json --hw hwprofiles/dgx-a100-80g.json \
	  --gpus 1024 --global-batch 1536 --top 5 -o $(BUILD)/demo-plan.json
	$(PARPLAN) emit --plan $(BUILD)/demo-plan.json --format megatron -o $(BUILD)/demo-megatron.sh
	@echo "plan: $(BUILD)/demo-plan.json  launcher: $(BUILD)/demo-megatron.sh"

models: $(PARPLAN)
	PARPLAN=$(PARPLAN) sh scripts/gen-models

bench: all $(BUILD)/bench_cost
	@PARPLAN=$(PARPLAN) BUILD=$(BUILD) sh scripts/bench

$(BUILD)/bench_cost: scripts/bench_cost.c $(LIB)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -o $@ $< $(LIB) $(LDLIBS)

clean:
	rm -rf build build-asan build-fuzz bin

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
