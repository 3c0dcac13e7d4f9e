# mk/fuzz.mk - `make fuzz`: one libFuzzer harness per loader (tests/fuzz/fuzz_<loader>.c), built
# with clang, libFuzzer, ASan and UBSan into $(FUZZ_BUILD), each run for FUZZ_SECONDS from a
# copy of its seed corpus (tests/fuzz/run.sh).  `make valgrind`: memcheck over searches,
# emitters and regress (tests/valgrind.sh).  docs/reliability.md has the figures and how to
# reproduce them.
FUZZ_CC      ?= clang
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= graph hw plan regress measurements exec
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS  := -std=c11 $(WARN) -O1 -g $(FUZZ_SAN) -MMD -MP
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ_BUILD)/%.o)
FUZZ_LIB     := $(FUZZ_BUILD)/libparplan.a
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)

fuzz: $(FUZZ_BINS)
	@sh tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-build: $(FUZZ_BINS)

# The library with coverage instrumentation but without libFuzzer's main().
$(FUZZ_BUILD)/src/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_LIB): $(FUZZ_LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.h $(FUZZ_LIB)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB) $(LDLIBS)

# Memcheck over a search with each method, emit of every format and regress (tests/valgrind.sh).
VALGRIND ?= valgrind
valgrind: all
	@PARPLAN=$(abspath $(PARPLAN)) VALGRIND="$(VALGRIND)" BUILD=$(BUILD) sh tests/valgrind.sh

-include $(FUZZ_LIB_OBJ:.o=.d) $(FUZZ_BINS:=.d)
