# vigil: plain make with pkg-config.  Targets:
#   make            build bin/vigil, bin/vigild, build/libvigil.a
#   make test       install missing packages, build, run the whole suite
#   make test-asan  the same suite under AddressSanitizer + UBSan
#   make demo       install missing packages, build, run the demo
#   make fuzz       build the libFuzzer harnesses (clang)
#   make bench      run the benchmarks, write docs/PERFORMANCE.md
#   make install PREFIX=/usr/local
# Variables: SANITIZE=1 (asan+ubsan), FUZZ_TIME=seconds per fuzzer.

PKG_CONFIG ?= pkg-config
PKGS       := libsodium sqlite3 jansson libcrypto libcurl yaml-0.1
D_PKGS     := libh2o-evloop libssl
PREFIX     ?= /usr/local
VERSION    := 0.1.0

ifeq ($(SANITIZE),1)
BUILD      ?= build/asan
SAN        := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
              -fno-omit-frame-pointer
OPT        ?= -O1 -g
else
BUILD      ?= build
SAN        :=
OPT        ?= -O2 -g
endif
BIN        := $(if $(filter build,$(BUILD)),bin,$(BUILD)/bin)

WARN    := -Wall -Wextra -Wshadow -Wformat=2 -Wcast-qual -Wvla \
           -Wpointer-arith -Wstrict-prototypes -Wmissing-prototypes \
           -Wundef -Wnull-dereference -Werror
DEFS    := -D_POSIX_C_SOURCE=200809L -D_XOPEN_SOURCE=700 \
           -D_DEFAULT_SOURCE -DVG_VERSION=\"$(VERSION)\"
PKGCFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKGLIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS = -std=c11 -pedantic $(OPT) $(WARN) $(DEFS) $(SAN) -Iinclude -Ilib \
             $(PKGCFLAGS) -MMD -MP $(CFLAGS)
ALL_LDFLAGS = $(SAN) $(LDFLAGS)
LIBS       = $(PKGLIBS) -lpthread -lm

LIB_SRC   := $(wildcard lib/*.c lib/util/*.c)
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
LIBA      := $(BUILD)/libvigil.a
CLI_SRC   := $(wildcard src/vigil/*.c)
CLI_OBJ   := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
D_SRC     := $(wildcard src/vigild/*.c)
D_OBJ     := $(D_SRC:%.c=$(BUILD)/obj/%.o)
T_SRC     := $(wildcard tests/unit/t_*.c)
T_BIN     := $(T_SRC:tests/unit/%.c=$(BUILD)/tests/%)
B_SRC     := $(wildcard bench/bench_*.c)
B_BIN     := $(B_SRC:bench/%.c=$(BUILD)/bench/%)

FUZZ_CC   ?= clang
FUZZ_SRC  := $(wildcard fuzz/fuzz_*.c)
FUZZ_BIN  := $(FUZZ_SRC:fuzz/%.c=build/fuzz/%)
FUZZ_TIME ?= 10

.PHONY: all deps test test-asan check demo fuzz fuzz-run bench install clean \
        tests benchbins

all: $(BIN)/vigil $(BIN)/vigild $(LIBA)

deps:
	@tools/deps.sh

# V=1 shows full command lines.
ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @printf '  %-6s %s\n'
endif

# vigild's objects see h2o (whose .pc file does not name the backend).
D_CFLAGS  := -DH2O_USE_LIBUV=0 $(shell $(PKG_CONFIG) --cflags $(D_PKGS) 2>/dev/null)
D_LIBS     = $(shell $(PKG_CONFIG) --libs $(D_PKGS) 2>/dev/null)
$(BUILD)/obj/src/vigild/%.o: src/vigild/%.c
	@mkdir -p $(dir $@)
	$(say) CC $<
	$(Q)$(CC) $(ALL_CFLAGS) $(D_CFLAGS) -c -o $@ $<

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(say) CC $<
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBA): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(say) AR $@
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^

$(BIN)/vigil: $(CLI_OBJ) $(LIBA)
	@mkdir -p $(dir $@)
	$(say) LD $@
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(CLI_OBJ) $(LIBA) $(LIBS)

# The OpenAPI document is served by vigild from its own binary.
$(BUILD)/gen/openapi.c: docs/openapi.yaml
	@mkdir -p $(dir $@)
	$(say) GEN $@
	$(Q){ echo '/* Generated from docs/openapi.yaml by the Makefile. */'; \
	  echo '#include <stddef.h>'; \
	  echo 'extern const unsigned char vg_openapi_yaml[];'; \
	  echo 'extern const size_t vg_openapi_yaml_len;'; \
	  echo 'const unsigned char vg_openapi_yaml[] = {'; \
	  od -An -v -tu1 docs/openapi.yaml | \
	    sed -e 's/^ *//' -e 's/  */,/g' -e 's/$$/,/'; \
	  echo '0 };'; \
	  echo "const size_t vg_openapi_yaml_len = $$(wc -c < docs/openapi.yaml);"; \
	} > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/gen/openapi.o: $(BUILD)/gen/openapi.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BIN)/vigild: $(D_OBJ) $(BUILD)/obj/gen/openapi.o $(LIBA)
	@mkdir -p $(dir $@)
	$(say) LD $@
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(D_OBJ) $(BUILD)/obj/gen/openapi.o \
	    $(LIBA) $(D_LIBS) $(LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIBA)
	@mkdir -p $(dir $@)
	$(say) CC $<
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/unit $(ALL_LDFLAGS) -o $@ $< $(LIBA) $(LIBS)

$(BUILD)/bench/%: bench/%.c $(LIBA)
	@mkdir -p $(dir $@)
	$(say) CC $<
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIBA) $(LIBS)

# An LD_PRELOAD shim for the integration tests: makes the audit log's
# writes fail on demand (tests/integ/failio.c).
$(BUILD)/tests/libfailio.so: tests/integ/failio.c
	@mkdir -p $(dir $@)
	$(say) CC $<
	$(Q)$(CC) -std=c11 -O1 -g $(WARN) $(DEFS) -fPIC -shared -o $@ $< -ldl

tests: all $(T_BIN) $(BUILD)/tests/libfailio.so
benchbins: all $(B_BIN) $(BUILD)/bench/loadgen

# The open-loop load generator of bench/broker (no libvigil).
$(BUILD)/bench/loadgen: bench/broker/loadgen.c
	@mkdir -p $(dir $@)
	$(say) CC $<
	$(Q)$(CC) -std=c11 -O2 -g $(WARN) -D_GNU_SOURCE -o $@ $<

# libFuzzer harnesses: clang builds the library sources with the fuzzer,
# and vigild's pure parsers (routing, bodies), which need no h2o.
FUZZ_DSRC := src/vigild/route.c src/vigild/body.c
build/fuzz/fuzz_%: fuzz/fuzz_%.c $(LIB_SRC) $(FUZZ_DSRC)
	@mkdir -p $(dir $@)
	$(say) FUZZ $<
	$(Q)$(FUZZ_CC) -std=c11 -g -O1 $(DEFS) -Iinclude -Ilib -Isrc/vigild \
	    $(PKGCFLAGS) \
	    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	    -o $@ $< $(LIB_SRC) $(FUZZ_DSRC) $(LIBS)

fuzz: $(FUZZ_BIN)

fuzz-run: fuzz
	@for f in $(FUZZ_BIN); do n=$${f##*/fuzz_}; \
	    sh tests/fuzz-run.sh $$f fuzz/corpus/$$n $(FUZZ_TIME); done

test: deps
	@$(MAKE) --no-print-directory tests fuzz
	@VIGIL_BIN=$(CURDIR)/$(BIN) TESTS_BIN=$(CURDIR)/$(BUILD)/tests \
	    FUZZ_BIN=$(CURDIR)/build/fuzz FUZZ_TIME=$(FUZZ_TIME) \
	    LOGDIR=$(CURDIR)/$(BUILD)/test-logs sh tests/run.sh

check: test

test-asan: deps
	@$(MAKE) --no-print-directory SANITIZE=1 tests
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    VIGIL_BIN=$(CURDIR)/build/asan/bin \
	    TESTS_BIN=$(CURDIR)/build/asan/tests \
	    LOGDIR=$(CURDIR)/build/asan/test-logs VIGIL_SANITIZE=1 \
	    sh tests/run.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@sh tools/demo.sh

bench:
	@tools/deps.sh --bench
	@$(MAKE) --no-print-directory benchbins
	@sh bench/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib \
	    $(DESTDIR)$(PREFIX)/include/vigil
	install -m 755 $(BIN)/vigil $(BIN)/vigild $(DESTDIR)$(PREFIX)/bin
	install -m 644 $(LIBA) $(DESTDIR)$(PREFIX)/lib
	install -m 644 include/vigil/*.h $(DESTDIR)$(PREFIX)/include/vigil

clean:
	rm -rf build bin

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(D_OBJ:.o=.d)
