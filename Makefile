# pv-forward - plain GNU make, C (gnu11).
#
#   make               build/pv_forward.so, build/pv-forwarder, build/pv-forward-exec
#   make check         dependencies, unit tests, then (as root) the integration tests
#   make check-unit    unit tests only (no root needed)
#   make install       PREFIX=/usr/local DESTDIR= PLUGINDIR=(Slurm's) SYSCONFDIR=/etc
#   make uninstall     the same variables
#   make check-man     the man pages render without warnings and match --help (no root)
#   make check-spec    the RPM spec parses and pins each Slurm release; rpmlint (no root)
#   make check-install make install after a default build installs what it built (no root)
#   make check-package RELEASES="bookworm trixie sid": the .deb per release, installed
#                      and used in that release's root (root; scripts/check-package)
#   make demo          the whole scenario in a throwaway cluster (root)
#   make bench         throughput / CPU / latency against peers (root for the srun part),
#                      then bench-load
#   make bench-load    a login node full of users: 200 --pv-forward jobs of 20 users in the
#                      test bed; memory, wake-ups, slurmctld RPCs, start-up, ports, pipes (root)
#   make fuzz          libFuzzer + ASan/UBSan over every pure parser, FUZZ_SECONDS (60)
#   make fuzz-smoke    the fuzzer for FUZZ_SMOKE_SECONDS (30) on a scratch copy of the seeds (CI)
#   make check-asan    plugin, forwarder, helper, unit tests under ASan+UBSan; the unit tests and
#                      the integration tests ASAN_TESTS (root; tests/check-asan);
#                      make check-asan-ci: the same with CI's subset ASAN_TESTS_CI
#   make check-valgrind the forwarder's integration tests under valgrind memcheck (root)
#   make lint          cppcheck and clang-tidy (.clang-tidy), clean
#   make check-matrix  build + unit + integration tests on Slurm 22.05/24.11/26.05 with
#                      ParaView 5.11/5.13/6.1, each in a Debian root (RELEASES="bookworm trixie sid")
#   make clean

PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
LIBEXECDIR  ?= $(PREFIX)/libexec/pv-forward
SYSCONFDIR  ?= /etc
MANDIR      ?= $(PREFIX)/share/man
SLURM_PREFIX ?= /usr
# Where the plugin goes: the directory the Slurm in use loads plugins from (Debian:
# /usr/lib/<multiarch>/slurm-wlm), asked only when installing; PLUGINDIR= overrides.
PLUGINDIR   ?= $(shell scripts/slurm-plugindir $(SLURM_PREFIX))
VERSION     := 0.1.0
# The Slurm release the headers are from; the plugin says it at load, --version prints it.
SLURM_RELEASE := $(shell scripts/slurm-release $(SLURM_PREFIX)/include 2>/dev/null)

CC       ?= cc
CFLAGS   ?= -O2 -g
WARNINGS := -Wall -Wextra -Wshadow -Wformat=2 -Wno-format-nonliteral
# CI sets WERROR=1.
ifeq ($(WERROR),1)
WARNINGS += -Werror
endif

PKG_CONFIG ?= pkg-config
LIBEVENT_CFLAGS := $(shell $(PKG_CONFIG) --cflags libevent 2>/dev/null)
LIBEVENT_LIBS   := $(shell $(PKG_CONFIG) --libs libevent 2>/dev/null)
CHECK_CFLAGS    := $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
CHECK_LIBS      := $(shell $(PKG_CONFIG) --libs check 2>/dev/null)
SLURM_CFLAGS    := $(if $(filter /usr,$(SLURM_PREFIX)),,-I$(SLURM_PREFIX)/include)
SLURM_LIBS      := $(if $(filter /usr,$(SLURM_PREFIX)),,-L$(SLURM_PREFIX)/lib -Wl,-rpath,$(SLURM_PREFIX)/lib) -lslurm

# Every object is position independent: common/ goes into the plugin and the programs.
ALL_CFLAGS = -std=gnu11 -fPIC $(WARNINGS) $(CPPFLAGS) $(CFLAGS) -Icommon \
	-DPV_FORWARD_VERSION='"$(VERSION)"' \
	-DPV_FORWARDER_PATH='"$(BINDIR)/pv-forwarder"' \
	-DPV_EXEC_HELPER_PATH='"$(LIBEXECDIR)/pv-forward-exec"' \
	$(SLURM_CFLAGS) $(LIBEVENT_CFLAGS)

B ?= build

# The paths compiled into the plugin and the programs, the version and the Slurm release
# they are built for. Every object depends on this stamp, which is rewritten only when one
# of them changes: `make install PREFIX=/usr` after a plain `make` rebuilds with /usr paths
# instead of installing a plugin that points at /usr/local, and a Slurm upgrade rebuilds
# (its headers are system headers, which -MMD does not track).
BUILD_STAMP := $(B)/build-stamp
build_stamp_text := BINDIR=$(BINDIR) LIBEXECDIR=$(LIBEXECDIR) VERSION=$(VERSION) \
	SLURM_PREFIX=$(SLURM_PREFIX) SLURM_RELEASE=$(SLURM_RELEASE) CC=$(CC) CPPFLAGS=$(CPPFLAGS) \
	CFLAGS=$(CFLAGS)
ifneq ($(build_stamp_text),$(file <$(BUILD_STAMP)))
$(shell mkdir -p $(B))
$(file >$(BUILD_STAMP),$(build_stamp_text))
endif

COMMON_SRC  := $(wildcard common/*.c)
FWD_SRC     := $(wildcard forwarder/*.c)
SPANK_SRC   := $(filter-out spank/pv_forward_exec.c,$(wildcard spank/*.c))
EXEC_SRC    := spank/pv_forward_exec.c
# Decision code (pure, or logging at most: ratelog.c) that the check unit tests link against.
PURE_SRC    := $(wildcard forwarder/config.c forwarder/cmdline.c forwarder/lifeline_line.c \
		forwarder/jobrules.c forwarder/logkeep.c forwarder/service.c forwarder/ratelog.c \
		forwarder/lifetime.c forwarder/endcause.c forwarder/binding.c forwarder/asks.c forwarder/waiters.c \
		forwarder/search.c \
		spank/site_args.c spank/pvf_value.c spank/argv_rewrite.c spank/starter.c)
# The plugin's look for a forwarder gone before its time: decisions, and a look into a
# state directory that the unit tests make.
PURE_SRC    += spank/fwd_gone.c
UNIT_SRC    := $(wildcard tests/unit/check_*.c)

obj = $(patsubst %.c,$(B)/%.o,$(1))

.PHONY: all check check-unit check-integration check-matrix check-man check-spec check-install \
	check-package install uninstall clean demo bench bench-load deps fuzz fuzz-smoke check-asan check-asan-ci check-valgrind lint
all: $(B)/pv_forward.so $(B)/pv-forwarder $(B)/pv-forward-exec

$(B)/%.o: %.c $(BUILD_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

# The plugin reports through slurm_error(): it does not link common/log.c, and
# exports only what Slurm's loader looks up (spank/exports.map).
$(B)/pv_forward.so: $(call obj,$(SPANK_SRC) $(filter-out common/log.c,$(COMMON_SRC))) spank/exports.map
	$(CC) -shared -Wl,--version-script=spank/exports.map -o $@ $(filter %.o,$^) $(LDFLAGS)

$(B)/pv-forwarder: $(call obj,$(FWD_SRC) $(COMMON_SRC))
	$(CC) -o $@ $^ $(LDFLAGS) $(LIBEVENT_LIBS) $(SLURM_LIBS)

$(B)/pv-forward-exec: $(call obj,$(EXEC_SRC) spank/argv_rewrite.c $(COMMON_SRC))
	$(CC) -o $@ $^ $(LDFLAGS)

# The unit-test runner finds every `Suite *NAME_suite(void)` in tests/unit/check_*.c.
$(B)/unit/suites.inc: $(UNIT_SRC)
	@mkdir -p $(dir $@)
	sed -n 's/^Suite \*\([a-z0-9_]*_suite\)(void)$$/SUITE(\1)/p' $^ > $@

$(B)/tests/unit/main.o: $(B)/unit/suites.inc
$(B)/tests/unit/%.o: ALL_CFLAGS += $(CHECK_CFLAGS) -I$(B)/unit -Ispank -Iforwarder

$(B)/check_unit: $(call obj,tests/unit/main.c $(UNIT_SRC) $(PURE_SRC) $(COMMON_SRC))
	$(CC) -o $@ $^ $(LDFLAGS) $(CHECK_LIBS) $(LIBEVENT_LIBS)

deps:
	@scripts/install-deps

check-unit: $(B)/check_unit
	$(B)/check_unit

check-integration: all
	tests/run-integration

# Needs only groff and man-db; no root.
check-man: $(B)/pv-forwarder
	tests/check-man $(B)/pv-forwarder man

check-spec:
	tests/check-spec

# A private build in /tmp, installed into a DESTDIR with PREFIX=/usr; no root.
check-install:
	tests/check-install

check: deps
	$(MAKE) all $(B)/check_unit
	$(B)/check_unit
	tests/check-man $(B)/pv-forwarder man
	tests/check-spec
	tests/check-install
	tests/run-integration

# Each release in its own root (scripts/release-root), built on first use and cached.
RELEASES ?= bookworm trixie sid
check-matrix:
	tests/matrix $(RELEASES)

# The .deb of each release built, linted, installed, used and removed in its root (slow).
check-package:
	scripts/check-package $(RELEASES)

demo: deps
	$(MAKE) all
	tests/demo

bench: deps
	$(MAKE) all
	tests/bench
	tests/bench-load

bench-load: deps
	$(MAKE) all
	tests/bench-load

# The fuzzer writes what it finds to $(B)/fuzz/corpus (seeds: tests/fuzz/seeds) and a
# crashing input to $(B)/fuzz/crash-*; it stops at the first crash, leak or UB, non-zero.
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
$(B)/fuzz/fuzz_parsers: tests/fuzz/fuzz_parsers.c $(PURE_SRC) $(COMMON_SRC)
	@mkdir -p $(B)/fuzz/corpus
	$(FUZZ_CC) -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-Icommon -Iforwarder -Ispank -o $@ $^ $(LIBEVENT_LIBS)

fuzz: deps $(B)/fuzz/fuzz_parsers
	$(B)/fuzz/fuzz_parsers -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -timeout=5 \
		-artifact_prefix=$(B)/fuzz/ $(B)/fuzz/corpus tests/fuzz/seeds

# The scratch corpus starts from the seeds every run: what the smoke run finds stays in
# $(B)/fuzz/smoke, and tests/fuzz/seeds grows only by seeds someone reviewed and committed.
FUZZ_SMOKE_SECONDS ?= 30
fuzz-smoke: $(B)/fuzz/fuzz_parsers
	tests/fuzz-smoke $(B)/fuzz/fuzz_parsers $(FUZZ_SMOKE_SECONDS)

# The integration tests on the sanitizer build: every one (each runs the plugin in
# srun/sbatch/salloc/slurmstepd, the forwarder or the exec helper) but 22 and 24, which cannot
# load it (tests/check-asan says why). ASAN_TESTS_CI: CI's subset (README: Hardening).
ASAN_TESTS    ?= 0* 1* 2[01356]-* 3* 4* 5* 6*
ASAN_TESTS_CI ?= 10-forwarder-bytes 12-forwarder-halfclose 16-* 2[01356]-* 3[01]-*
check-asan:
	ASAN_TESTS='$(ASAN_TESTS)' tests/check-asan
check-asan-ci:
	ASAN_TESTS='$(ASAN_TESTS_CI)' tests/check-asan

# Default: every forwarder test (tests/check-valgrind says which bounds adapt under memcheck).
VALGRIND_TESTS ?=
check-valgrind: all
	tests/check-valgrind $(VALGRIND_TESTS)

lint:
	tests/lint

MANPAGES := man/pv_forward.8 man/pv-forwarder.8
CONFD    := $(SYSCONFDIR)/slurm/plugstack.conf.d
# The snippet as installed: where the plugin and the programs are.
snippet = sed -e "s|@PLUGINDIR@|$$plugindir|g" -e 's|@FORWARDER@|$(BINDIR)/pv-forwarder|g' \
	-e 's|@EXEC_HELPER@|$(LIBEXECDIR)/pv-forward-exec|g' etc/plugstack.conf.d/pv-forward.conf

# PLUGINDIR is asked once per recipe (it may run scripts/slurm-plugindir).
install: all
	@plugindir='$(PLUGINDIR)'; [ -n "$$plugindir" ] || exit 1; set -x; \
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$$plugindir \
		$(DESTDIR)$(CONFD) $(DESTDIR)$(MANDIR)/man8; \
	install -m 0755 $(B)/pv-forwarder $(DESTDIR)$(BINDIR)/pv-forwarder; \
	install -m 0755 $(B)/pv-forward-exec $(DESTDIR)$(LIBEXECDIR)/pv-forward-exec; \
	install -m 0644 $(B)/pv_forward.so $(DESTDIR)$$plugindir/pv_forward.so; \
	install -m 0644 $(MANPAGES) $(DESTDIR)$(MANDIR)/man8/; \
	$(snippet) > $(DESTDIR)$(CONFD)/pv-forward.conf; \
	chmod 0644 $(DESTDIR)$(CONFD)/pv-forward.conf

# The plugstack snippet stays when a site changed it (as a package keeps a conffile).
uninstall:
	@plugindir='$(PLUGINDIR)'; [ -n "$$plugindir" ] || exit 1; set -x; \
	rm -f $(DESTDIR)$(BINDIR)/pv-forwarder $(DESTDIR)$(LIBEXECDIR)/pv-forward-exec \
		$(DESTDIR)$$plugindir/pv_forward.so \
		$(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(MANPAGES))); \
	rmdir $(DESTDIR)$(LIBEXECDIR) 2>/dev/null || true; \
	if $(snippet) | cmp -s - $(DESTDIR)$(CONFD)/pv-forward.conf; then \
		rm -f $(DESTDIR)$(CONFD)/pv-forward.conf; \
	elif [ -e $(DESTDIR)$(CONFD)/pv-forward.conf ]; then \
		echo "uninstall: $(DESTDIR)$(CONFD)/pv-forward.conf was changed; left in place"; \
	fi

clean:
	rm -rf $(B)

-include $(shell find $(B) -type f -name '*.d' 2>/dev/null)
