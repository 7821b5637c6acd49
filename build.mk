# Build, test and install mdomain: libmdomain.a (src/core), the mdomain CLI, the Apache module mod_mdomain.so
# (src/httpd), unit and end-to-end tests. Read through the Makefile, which installs the packages first.
# The core is compiled WITHOUT httpd's include path: a core file that includes an httpd header fails to build.
# Only src/httpd gets httpd's headers; its .so hides everything but mdomain_module (see module-symbols).

VERSION    := 0.1.0
PREFIX     ?= /usr/local
BUILD      ?= build
CC         ?= gcc
PYTHON     ?= /usr/bin/python3

APR_CFLAGS := $(shell apr-1-config --includes --cppflags)
APR_LIBS   := $(shell apr-1-config --link-ld --libs)
DEP_CFLAGS := $(shell pkg-config --cflags libcurl jansson openssl 2>/dev/null)
# libcurl: its headers only; the core loads it at the first request (src/core/http/md_http_curl_lib.c), so that a
# process that never talks to a CA does not load its ~30 libraries (`link-check` keeps it out of the binaries).
DEP_LIBS   := $(shell pkg-config --libs jansson openssl 2>/dev/null) -lresolv
CURL_LIBS  := $(shell pkg-config --libs libcurl 2>/dev/null)    # test tools that call libcurl themselves
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)
HTTPD_INC  := $(shell apxs -q INCLUDEDIR 2>/dev/null)
HTTPD_MODDIR := $(shell apxs -q LIBEXECDIR 2>/dev/null)
APU_LIBS   := $(shell apu-1-config --link-ld 2>/dev/null)

WARN       := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
CFLAGS     ?= -O2 -g
SANITIZE   ?=
ALL_CFLAGS := -std=gnu11 -fPIC $(WARN) $(CFLAGS) $(SANITIZE) -DMD_VERSION='"$(VERSION)"' \
              -Iinclude $(APR_CFLAGS) $(DEP_CFLAGS)
LDLIBS     := $(APR_LIBS) $(DEP_LIBS)

CORE_SRC   := $(sort $(wildcard src/core/*/*.c))
CORE_OBJ   := $(CORE_SRC:%.c=$(BUILD)/%.o)
CLI_SRC    := $(sort $(wildcard src/cli/*.c))
CLI_OBJ    := $(CLI_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC   := $(sort $(wildcard tests/unit/*.c))
UNIT_OBJ   := $(UNIT_SRC:%.c=$(BUILD)/%.o)
MOD_SRC    := $(sort $(wildcard src/httpd/*.c))
MOD_OBJ    := $(MOD_SRC:%.c=$(BUILD)/%.o)
MOD_CFLAGS := $(ALL_CFLAGS) -fvisibility=hidden -I$(HTTPD_INC)
TOOL_SRC   := $(sort $(wildcard tests/tools/*.c))
TOOL_BIN   := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tests/tools/%)

# Quiet by default; `make V=1` prints the full commands.
ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @echo "  $(1)	$(2)"
endif

LIB        := $(BUILD)/libmdomain.a
CLI        := $(BUILD)/mdomain
MOD        := $(BUILD)/mod_mdomain.so
UNIT       := $(BUILD)/tests/unit/unit-tests

.PHONY: all check unit e2e asan e2e-asan install install-check clean demo boundary tools bench bench-full bench-module bench-live \
        module module-symbols link-check fuzz fuzz-build fuzz-targets fuzz-check unit-suites
all: boundary $(LIB) $(CLI) module tools link-check

# The core/glue boundary: no httpd header in src/core or include/ (also enforced by the include path).
boundary:
	@if grep -rEn '#\s*include\s*[<"](httpd|http_[a-z_]+|ap_[a-z_]+|mod_[a-z_]+)\.h' src/core include; then \
	  echo "error: src/core and include/ must not use httpd headers" >&2; exit 1; fi

$(BUILD)/src/core/%.o: src/core/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

# The module's files: httpd's headers, hidden visibility.
$(BUILD)/src/httpd/%.o: src/httpd/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(MOD_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(CLI): $(CLI_OBJ) $(LIB)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $(CLI_OBJ) $(LIB) $(LDLIBS)

# The core and libraries linked in; --exclude-libs keeps libmdomain.a's symbols out of the dynamic table.
$(MOD): $(MOD_OBJ) $(LIB)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -shared -o $@ $(MOD_OBJ) $(LIB) $(LDLIBS) $(APU_LIBS) -Wl,--exclude-libs,ALL

module: $(MOD) module-symbols

# The .so exports mdomain_module only (and the linker's _init/_fini, if any; built with ASan also the
# sanitizer's ODR indicator __odr_asan.mdomain_module, which gcc 12 cannot turn off).
module-symbols: $(MOD)
	@extra=$$(nm -D --defined-only $(MOD) | awk '{print $$3}' | \
	  grep -v -x -e mdomain_module -e _init -e _fini -e '__odr_asan\.mdomain_module'); \
	if [ -n "$$extra" ]; then echo "error: $(MOD) exports more than mdomain_module:" $$extra >&2; exit 1; fi; \
	nm -D --defined-only $(MOD) | grep -q ' mdomain_module$$' || \
	  { echo "error: $(MOD) lacks mdomain_module" >&2; exit 1; }

# No binary names libcurl as a library it needs: it is loaded at the first request to a CA.
link-check: $(CLI) $(MOD)
	@for f in $(CLI) $(MOD); do \
	  if readelf -d $$f | grep -q 'NEEDED.*libcurl'; then \
	    echo "error: $$f is linked with libcurl (it must be loaded at the first request: md_http_curl_lib.c)" >&2; \
	    exit 1; fi; done

$(UNIT): $(UNIT_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $(UNIT_OBJ) $(LIB) $(CHECK_LIBS) $(LDLIBS)

$(BUILD)/tests/tools/%: tests/tools/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(LIB) $(LDLIBS) $(CURL_LIBS)

tools: $(TOOL_BIN)

# Every suite defined in tests/unit must be in tests/unit/main.c's list (one left out would pass unnoticed); the
# runner itself fails when fewer tests ran than tests/unit/expected-count says.
unit-suites:
	@missing=$$(sed -n 's/^Suite \*\(md_test_[a-z0-9_]*_suite\)(void)$$/\1/p' $(UNIT_SRC) | \
	  while read s; do grep -qw "$$s" tests/unit/main.c || echo "$$s"; done); \
	if [ -n "$$missing" ]; then echo "error: tests/unit/main.c does not run" $$missing >&2; exit 1; fi

unit: boundary unit-suites $(UNIT)
	$(UNIT) tests/unit/expected-count

# End-to-end tests: pebble, pebble-challtestsrv, apache2 and the built binaries. E2E_JOBS test files run side by side
# (pytest-xdist; each test starts its own processes on free ports): the tests wait on servers far more than they
# compute. E2E_JOBS=0 runs them in pytest's own process (for -s, pdb). E2E_ARGS adds pytest options.
E2E_JOBS  ?= 4
E2E_ARGS  ?=
PYTEST_E2E = $(PYTHON) -m pytest -q $(if $(filter 0,$(E2E_JOBS)),,-n $(E2E_JOBS) --dist loadfile) $(E2E_ARGS) tests/e2e
BUILD_JOBS ?= $(shell nproc 2>/dev/null || echo 2)

e2e: all
	MD_BUILD=$(abspath $(BUILD)) $(PYTEST_E2E)

# Everything built with AddressSanitizer + UndefinedBehaviorSanitizer, in a build tree of its own.
ASAN_MAKE  := $(MAKE) -f build.mk BUILD=build-asan CFLAGS="-O1 -g -fno-omit-frame-pointer" \
              SANITIZE="-fsanitize=address,undefined -fno-sanitize-recover=all"
ASAN_ENV   := ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1

# Unit tests under the sanitizers.
asan: unit-suites
	$(ASAN_MAKE) build-asan/tests/unit/unit-tests
	$(ASAN_ENV) build-asan/tests/unit/unit-tests tests/unit/expected-count

# End-to-end tests against the sanitized binaries (a leak or a memory error fails the test that saw it).
e2e-asan:
	$(ASAN_MAKE) all
	$(ASAN_ENV) MD_BUILD=$(abspath build-asan) $(PYTEST_E2E)

# Everything: the three build trees first (BUILD_JOBS compilers at a time), then each test phase.
check:
	$(MAKE) -f build.mk -j$(BUILD_JOBS) all $(UNIT)
	$(ASAN_MAKE) -j$(BUILD_JOBS) all build-asan/tests/unit/unit-tests
	$(FUZZ_MAKE) -j$(BUILD_JOBS) fuzz-targets
	$(MAKE) -f build.mk unit
	$(MAKE) -f build.mk asan
	$(MAKE) -f build.mk fuzz-check
	$(MAKE) -f build.mk e2e
	$(MAKE) -f build.mk e2e-asan

# Fuzzing (docs/development.md): libFuzzer targets tests/fuzz/fuzz_NAME.c, built with clang in a tree of their own
# (the core with -fsanitize=fuzzer-no-link,address,undefined; the targets linked with -fsanitize=fuzzer).
# `make fuzz FUZZ_SECONDS=N` fuzzes each target for N seconds (new inputs in build-fuzz/corpus/NAME, crashes in
# build-fuzz/crashes/NAME); `make fuzz-check` runs each once over its seeds (tests/fuzz/corpus/NAME), as `make check`
# does. FUZZ_TARGETS="json store" picks targets.
FUZZ_BUILD   := build-fuzz
FUZZ_NAMES   := $(patsubst tests/fuzz/fuzz_%.c,%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_TARGETS ?= $(FUZZ_NAMES)
FUZZ_SECONDS ?= 30
FUZZ_BIN     := $(FUZZ_NAMES:%=$(BUILD)/tests/fuzz/fuzz_%)
FUZZ_COMMON  := $(BUILD)/tests/fuzz/fuzz.o
FUZZ_MAKE    := $(MAKE) -f build.mk BUILD=$(FUZZ_BUILD) CC=clang CFLAGS="-O1 -g -fno-omit-frame-pointer" \
                SANITIZE="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all"

$(FUZZ_BIN): $(BUILD)/tests/fuzz/fuzz_%: $(BUILD)/tests/fuzz/fuzz_%.o $(FUZZ_COMMON) $(LIB)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_COMMON) $(LIB) $(LDLIBS)

fuzz-targets: $(FUZZ_BIN)
	@:

fuzz-build:
	$(Q)$(FUZZ_MAKE) fuzz-targets

fuzz: fuzz-build
	$(Q)tests/fuzz/run run $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-check: fuzz-build
	$(Q)tests/fuzz/run check $(FUZZ_BUILD) 0 $(FUZZ_TARGETS)

demo: all
	@scripts/demo

# Time to certificate and ACME requests per issuance, mdomain and Debian's mod_md side by side (bench/README.md).
# Not a test: nothing is asserted. BENCH_ARGS passes options, e.g. BENCH_ARGS="--sizes 1,10 --repeat 3".
bench: all
	MD_BUILD=$(abspath $(BUILD)) $(PYTHON) bench/issuance.py $(BENCH_ARGS)

# The same up to 1000 MDs (about 5 minutes; mod_md's 1000 take most of it).
bench-full: all
	MD_BUILD=$(abspath $(BUILD)) $(PYTHON) bench/issuance.py --sizes 1,10,100,1000 $(BENCH_ARGS)

# httpd start with 1000 MDs (empty and full store: time to answer, memory; CA requests), mod_mdomain and
# Debian's mod_md side by side (bench/README.md). Not a test. BENCH_MODULE_ARGS passes options, e.g. "--mds 100".
bench-module: all
	MD_BUILD=$(abspath $(BUILD)) $(PYTHON) bench/module_start.py $(BENCH_MODULE_ARGS)

# Live activation: from a renewal's end to its certificate served, and the cost per TLS handshake against mod_ssl
# alone (bench/README.md). Not a test. BENCH_LIVE_ARGS passes options, e.g. "--runs 5 --rounds 3".
bench-live: all
	MD_BUILD=$(abspath $(BUILD)) $(PYTHON) bench/live.py $(BENCH_LIVE_ARGS)

# Where things go. The Apache files only where Debian's layout is (a2enmod reads mods-available/), the module in
# httpd's module directory (apxs), the rest under PREFIX; all under DESTDIR when it is given.
BINDIR      := $(PREFIX)/bin
LIBDIR      := $(PREFIX)/lib
INCDIR      := $(PREFIX)/include/mdomain
MAN1DIR     := $(PREFIX)/share/man/man1
UNITDIR     := $(PREFIX)/lib/systemd/system
APACHE_MODS ?= $(if $(wildcard /etc/apache2/mods-available/.),/etc/apache2/mods-available)
HEADERS     := $(notdir $(sort $(wildcard include/*.h)))

# `make install` builds first. With BUILD= given (make -f build.mk install BUILD=build-asan), that build dir is
# installed as it is, never rebuilt with other flags; it must have been built.
ifneq ($(filter command line environment,$(origin BUILD)),)
INSTALL_FROM := install-built
else
INSTALL_FROM := all
endif

.PHONY: install-built uninstall
install-built:
	@for f in $(CLI) $(LIB) $(MOD); do \
	  [ -f $$f ] || { echo "error: $$f is not built: run make -f build.mk BUILD=$(BUILD) first" >&2; exit 1; }; done

install-check:
	@[ -n "$(HTTPD_MODDIR)" ] || { echo "error: apxs -q LIBEXECDIR gives no module directory (apache2-dev)" >&2; exit 1; }

# $(call install_file,MODE,FILES,DEST): a file, or files into the directory DEST/.
define install_file
	$(call say,INSTALL,$(3))
	$(Q)install -m $(1) $(2) $(3)
endef
# $(call install_template,MODE,TEMPLATE,DEST): the template with @BINDIR@ and @MODDIR@ replaced, written atomically.
define install_template
	$(call say,INSTALL,$(3))
	$(Q)sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@MODDIR@|$(HTTPD_MODDIR)|g' $(2) > $(3).tmp
	$(Q)chmod $(1) $(3).tmp && mv -f $(3).tmp $(3)
endef

install: $(INSTALL_FROM) install-check
	$(Q)install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCDIR) $(DESTDIR)$(MAN1DIR) \
	  $(DESTDIR)$(UNITDIR) $(DESTDIR)$(HTTPD_MODDIR)
	$(call install_file,0755,$(CLI),$(DESTDIR)$(BINDIR)/mdomain)
	$(call say,LN,$(DESTDIR)$(BINDIR)/a2md)
	$(Q)ln -sfn mdomain $(DESTDIR)$(BINDIR)/a2md
	$(call install_file,0644,$(LIB),$(DESTDIR)$(LIBDIR)/libmdomain.a)
	$(call install_file,0644,$(addprefix include/,$(HEADERS)),$(DESTDIR)$(INCDIR)/)
	$(call install_file,0644,docs/mdomain.1,$(DESTDIR)$(MAN1DIR)/mdomain.1)
	$(call install_template,0644,packaging/systemd/mdomain.service.in,$(DESTDIR)$(UNITDIR)/mdomain.service)
	$(call install_file,0644,packaging/systemd/mdomain.timer,$(DESTDIR)$(UNITDIR)/mdomain.timer)
	$(call install_file,0644,$(MOD),$(DESTDIR)$(HTTPD_MODDIR)/mod_mdomain.so)
ifneq ($(APACHE_MODS),)
	$(Q)install -d $(DESTDIR)$(APACHE_MODS)
	$(call install_template,0644,packaging/apache2/mdomain.load.in,$(DESTDIR)$(APACHE_MODS)/mdomain.load)
	$(call install_file,0644,packaging/apache2/mdomain.conf,$(DESTDIR)$(APACHE_MODS)/mdomain.conf)
endif

# Removes what install put there, and the headers' own directory when it is left empty; nothing else.
UNINSTALL_FILES := $(BINDIR)/mdomain $(BINDIR)/a2md $(LIBDIR)/libmdomain.a $(addprefix $(INCDIR)/,$(HEADERS)) \
                   $(MAN1DIR)/mdomain.1 $(UNITDIR)/mdomain.service $(UNITDIR)/mdomain.timer \
                   $(HTTPD_MODDIR)/mod_mdomain.so \
                   $(if $(APACHE_MODS),$(APACHE_MODS)/mdomain.load $(APACHE_MODS)/mdomain.conf)
uninstall: install-check
	$(call say,RM,$(DESTDIR)$(PREFIX) $(DESTDIR)$(HTTPD_MODDIR) $(DESTDIR)$(APACHE_MODS))
	$(Q)rm -f $(addprefix $(DESTDIR),$(UNINSTALL_FILES))
	$(Q)[ ! -d $(DESTDIR)$(INCDIR) ] || rmdir --ignore-fail-on-non-empty $(DESTDIR)$(INCDIR)

clean:
	rm -rf build build-asan build-fuzz

-include $(CORE_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(MOD_OBJ:.o=.d) $(UNIT_OBJ:.o=.d) $(FUZZ_BIN:=.d) $(FUZZ_COMMON:.o=.d)
