# Atrium build. `make` builds ./build/atrium; `make test` builds an ASan+UBSan copy and runs
# every test with it; `make run` starts the daemon on 127.0.0.1:8080 with ./data.
# Dependencies come from pkg-config; scripts/deps.sh installs them on Debian when missing.

CC      ?= cc
PKGS    := libmicrohttpd libuv jansson libcurl sqlite3 libcrypto
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm -lpthread
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

WARN := -Wall -Wextra -Wpedantic -Wformat=2 -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wwrite-strings -Wvla -Werror -Wno-format-truncation
# (snprintf truncation is how fixed buffers are capped here, so that warning is off)
BASE := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(WARN) -Iinclude -Isrc -Ibuild/gen $(PKG_CFLAGS) -MMD -MP
REL_FLAGS  := -O2 -g
ASAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

SRCS      := $(sort $(wildcard src/*.c src/*/*.c))
LIB_SRCS  := $(filter-out src/main.c,$(SRCS))
MIGRATIONS := $(sort $(wildcard migrations/*.sql))
WEB_FILES := $(sort $(shell find web -type f ! -name '.*' 2>/dev/null))
WEB_TEXT  := $(filter %.html %.js %.mjs %.css %.svg %.json %.md %.txt,$(WEB_FILES))
WEB_GZ    := $(WEB_TEXT:web/%=build/gen/webgz/%.gz)
# scripts and styles are embedded minified (the first load ships ~1/3 fewer bytes): Debian's
# esbuild package (scripts/deps.sh installs it; a Go binary, no npm) minifies each file on its
# own at build time (no bundling: the modules and their imports stay as they are). Vendored
# files fully; Atrium's own keep their names (whitespace and syntax only), so a stack trace
# from a user's browser still names the functions. Without esbuild the files are embedded as
# they are (a larger first load, the same behaviour). `--web-dir web` serves the sources.
ESBUILD   := $(shell command -v esbuild 2>/dev/null)
webmin     = $(if $(filter %.js %.css,$(1)),$(1:web/%=build/gen/webmin/%),$(1))
WEB_MIN   := $(foreach f,$(filter %.js %.css,$(WEB_FILES)),$(call webmin,$(f)))
GEN_SRCS  := build/gen/migrations.c build/gen/web.c

REL_OBJS  := $(LIB_SRCS:%.c=build/obj/%.o) $(GEN_SRCS:build/gen/%.c=build/obj/gen/%.o)
ASAN_OBJS := $(LIB_SRCS:%.c=build/asan/obj/%.o) $(GEN_SRCS:build/gen/%.c=build/asan/obj/gen/%.o)

UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
# fuzz harnesses (fuzz/fuzz_NAME.c): `make fuzz` builds them with clang's libFuzzer, `make test`
# replays their corpora through the same entry points built with gcc (fuzz/replay.c)
FUZZ_NAMES   := $(patsubst fuzz/fuzz_%.c,%,$(sort $(wildcard fuzz/fuzz_*.c)))
FUZZ_REPLAYS := $(FUZZ_NAMES:%=build/asan/tests/fuzz/replay_%)
INT_SRCS  := $(sort $(wildcard tests/integration/test_*.c))
INT_LIB   := $(filter-out $(INT_SRCS),$(wildcard tests/integration/*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=build/asan/tests/unit/%)
INT_BINS  := $(INT_SRCS:tests/integration/%.c=build/asan/tests/integration/%)
BENCH_SRCS := $(sort $(wildcard bench/*.c))
BENCH_BINS := $(BENCH_SRCS:bench/%.c=build/bench/%)
# small programs the tests run (the V2 model server of the deployment tests), built optimised
TOOL_SRCS := $(sort $(wildcard tests/tools/*.c))
TOOL_BINS := $(TOOL_SRCS:tests/tools/%.c=build/tests/tools/%)

V ?= 0
Q := $(if $(filter 1,$(V)),,@)

.PHONY: all run test test-build unit integration web-test clean deps lint bench bench-smoke valgrind fuzz fuzz-build torture alloc-torture
.DEFAULT_GOAL := all

all: build/atrium

deps:
	@scripts/deps.sh

# ---- generated sources ----
build/embed: tools/embed.c
	@mkdir -p $(@D)
	$(CC) -O1 -o $@ $<

build/gen/migrations.c: build/embed $(MIGRATIONS)
	@mkdir -p $(@D)
	@echo "  EMBED   $@"
	$(Q)build/embed $@ atr_migrations $(foreach f,$(MIGRATIONS),$(notdir $(f))=$(f))

build/gen/webgz/%.gz: web/%
	@mkdir -p $(@D)
	$(Q)gzip -9 -n -c $< > $@

build/gen/webmin/%: web/%
	@mkdir -p $(@D)
ifneq ($(ESBUILD),)
	@echo "  MINIFY  $<"
	$(Q)$(ESBUILD) $< --log-level=warning $(if $(filter vendor/%,$*),--minify \
		--banner:$(if $(filter %.css,$<),css,js)="/*! $(notdir $<) minified; its licence: $(dir $*)LICENSE */", \
		--minify-whitespace --minify-syntax) > $@
else
	@echo "  COPY    $< (esbuild is not installed: scripts/deps.sh installs it; embedded as it is)"
	$(Q)cp $< $@
endif

build/gen/webgz/%.js.gz: build/gen/webmin/%.js
	@mkdir -p $(@D)
	$(Q)gzip -9 -n -c $< > $@

build/gen/webgz/%.css.gz: build/gen/webmin/%.css
	@mkdir -p $(@D)
	$(Q)gzip -9 -n -c $< > $@

build/gen/web.c: build/embed $(WEB_FILES) $(WEB_MIN) $(WEB_GZ)
	@mkdir -p $(@D)
	@echo "  EMBED   $@"
	$(Q)build/embed $@ atr_web_assets $(foreach f,$(WEB_FILES),$(f:web/%=%)=$(call webmin,$(f))) \
		$(foreach f,$(WEB_TEXT),$(f:web/%=%).gz=build/gen/webgz/$(f:web/%=%).gz)

# ---- release build ----
build/obj/gen/%.o: build/gen/%.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(BASE) $(REL_FLAGS) -Wno-overlength-strings -c -o $@ $<

build/obj/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(BASE) $(REL_FLAGS) -c -o $@ $<

build/atrium: build/obj/src/main.o $(REL_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(REL_FLAGS) -o $@ $^ $(PKG_LIBS)

# ---- sanitizer build and tests ----
build/asan/obj/gen/%.o: build/gen/%.c
	@mkdir -p $(@D)
	@echo "  CC asan $<"
	$(Q)$(CC) $(BASE) $(ASAN_FLAGS) -Wno-overlength-strings -c -o $@ $<

build/asan/obj/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC asan $<"
	$(Q)$(CC) $(BASE) $(ASAN_FLAGS) -c -o $@ $<

build/asan/atrium: build/asan/obj/src/main.o $(ASAN_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(ASAN_FLAGS) -o $@ $^ $(PKG_LIBS)

build/asan/tests/unit/%: build/asan/obj/tests/unit/%.o $(ASAN_OBJS)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(ASAN_FLAGS) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS)

build/asan/tests/integration/%: build/asan/obj/tests/integration/%.o $(INT_LIB:%.c=build/asan/obj/%.o) $(ASAN_OBJS)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(ASAN_FLAGS) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS)

build/asan/tests/fuzz/replay_%: build/asan/obj/fuzz/fuzz_%.o build/asan/obj/fuzz/replay.o $(ASAN_OBJS)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(ASAN_FLAGS) -o $@ $^ $(PKG_LIBS)

# allocation failures (tests/alloc): Atrium's allocations through a hook that fails the N-th
ALLOC_WRAP := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup,--wrap=strndup
build/asan/tests/alloc/test_alloc: build/asan/obj/tests/alloc/test_alloc.o build/asan/obj/tests/alloc/alloc_hook.o \
		$(ASAN_OBJS)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(ASAN_FLAGS) $(ALLOC_WRAP) -o $@ $^ $(PKG_LIBS)

alloc-torture: build/asan/tests/alloc/test_alloc
	@build/asan/tests/alloc/test_alloc

build/tests/tools/%: tests/tools/%.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(BASE) $(REL_FLAGS) -o $@ $< $(PKG_LIBS)

test-build: build/asan/atrium $(UNIT_BINS) $(INT_BINS) build/atrium $(BENCH_BINS) $(TOOL_BINS) $(FUZZ_REPLAYS) \
	    build/asan/tests/alloc/test_alloc

test:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory test-build
	@tests/run.sh

unit: test-build
	@tests/run.sh unit

integration: test-build
	@tests/run.sh integration

# ---- fuzzing (clang's libFuzzer): `make fuzz` runs each harness FUZZ_SECONDS (60) seconds;
# FUZZ=json runs one. New inputs go to build/fuzz/corpus/NAME (copy a finding into
# fuzz/corpus/NAME so that `make test` replays it).
CLANG       ?= clang
FUZZ_SECONDS ?= 60
FUZZ        ?= $(FUZZ_NAMES)
FUZZ_FLAGS  := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all \
               -Wno-unknown-warning-option -Wno-format-nonliteral
FUZZ_OBJS   := $(LIB_SRCS:%.c=build/fuzz/obj/%.o) $(GEN_SRCS:build/gen/%.c=build/fuzz/obj/gen/%.o)
FUZZ_BINS   := $(FUZZ_NAMES:%=build/fuzz/fuzz_%)

build/fuzz/obj/gen/%.o: build/gen/%.c
	@mkdir -p $(@D)
	@echo "  CLANG   $<"
	$(Q)$(CLANG) $(BASE) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -Wno-overlength-strings -c -o $@ $<

build/fuzz/obj/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CLANG   $<"
	$(Q)$(CLANG) $(BASE) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

build/fuzz/fuzz_%: build/fuzz/obj/fuzz/fuzz_%.o $(FUZZ_OBJS)
	@echo "  LD      $@"
	$(Q)$(CLANG) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS)

fuzz-build: $(FUZZ_BINS)

.SECONDARY: $(FUZZ_NAMES:%=build/asan/obj/fuzz/fuzz_%.o) $(FUZZ_NAMES:%=build/fuzz/obj/fuzz/fuzz_%.o) \
	    build/asan/obj/fuzz/replay.o $(FUZZ_OBJS)

fuzz: fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh $(FUZZ)

# ---- crash trials: the daemon killed (SIGKILL) at random moments of a mixed write load, its
# ledger of acknowledged writes checked after each restart (tests/integration/test_crash.c;
# `make test` runs 4 trials). TORTURE_TRIALS=N, CRASH_SEED=S, CRASH_MAX_MS=MS.
TORTURE_TRIALS ?= 100
torture: build/asan/atrium build/asan/tests/integration/test_crash
	@CRASH_TRIALS=$(TORTURE_TRIALS) ATRIUM_BIN=$(CURDIR)/build/asan/atrium ATRIUM_TEST_PBKDF2_ITERATIONS=1000 \
		build/asan/tests/integration/test_crash

# ---- benchmark ----
build/bench/%: bench/%.c $(REL_OBJS)
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(BASE) $(REL_FLAGS) -o $@ $(filter %.c %.o,$^) $(PKG_LIBS)

bench: deps
	@$(MAKE) --no-print-directory build/atrium $(BENCH_BINS) $(TOOL_BINS)
	@bench/run.sh

bench-smoke: build/atrium $(BENCH_BINS) $(TOOL_BINS)
	@BENCH_SMOKE=1 bench/run.sh

# ---- running ----
run: deps
	@$(MAKE) --no-print-directory build/atrium $(TOOL_BINS)
	./build/atrium serve --listen 127.0.0.1:8080 --data-dir ./data --local-worker

lint: build/atrium
	@scripts/lint.sh

valgrind: build/atrium $(UNIT_BINS)
	@for t in $(UNIT_BINS); do valgrind --error-exitcode=1 --leak-check=full -q $$t || exit 1; done

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
