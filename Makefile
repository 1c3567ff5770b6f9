# Makefile for sre. `make deps` installs what is missing (Debian 12);
# `make` builds ./sre and the man pages; `make test` runs every test
# through prove; `make test SANITIZE=1` the same under ASan and UBSan;
# `make demo` runs the detect, diagnose, fix loop on a demo stack of three
# services (examples/demo/);
# `make bench` prints what the store costs against a plain-SQLite baseline;
# `make fuzz` runs the libFuzzer targets of fuzz/ for FUZZ_SECONDS each;
# `make install PREFIX=... DESTDIR=...` installs, `make uninstall` removes
# the same files. Rules print one short line each (`    CC lib/x.o`, as
# git's Makefile does); `make V=1` prints the full commands.

VERSION = 0.1.0
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR = $(PREFIX)/bin
MANDIR = $(PREFIX)/share/man
BASHCOMPDIR = $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR = $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR = $(PREFIX)/share/fish/vendor_completions.d

CC ?= cc
CFLAGS ?= -O2 -g
# readline is GPLv3; READLINE=edit links the BSD-licensed libedit instead.
READLINE ?= readline

# libcurl and libgit2 are compiled against but not linked: lib/lazy-curl.c
# and lib/lazy-libgit2.c load them on first use (lib/lazy-load.h says why),
# by the sonames of the libraries a link would have taken.
LAZY_PKGS = libcurl libgit2
PKGS = libcjson sqlite3 yaml-0.1
ifeq ($(READLINE),edit)
PKGS += libedit
RL_CPPFLAGS = -DSRE_LIBEDIT
else
RL_LIBS = -lreadline
endif

# Lazy (=) on purpose: `make test` installs packages before these are read.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) $(LAZY_PKGS))
PKG_LIBS = $(shell pkg-config --libs $(PKGS)) $(RL_LIBS) -lm -pthread -ldl
soname = $(shell objdump -p "$$($(CC) -print-file-name=$(1))" 2>/dev/null | sed -n 's/^ *SONAME *//p')

WARNINGS = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wno-unused-parameter -Wformat=2 -Wundef
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARNINGS) $(CFLAGS) $(RL_CPPFLAGS) \
	     -DSRE_VERSION='"$(VERSION)"' -DSRE_MANDIR='"$(MANDIR)"' -MMD -MP
ALL_LDFLAGS = $(LDFLAGS)

# Quiet rules (git's): each prints what it makes, not how, unless V=1 or
# make -s.
ifneq ($(findstring s,$(firstword -$(MAKEFLAGS))),s)
ifndef V
QUIET_CC    = @echo '   ' CC $(@:$(B)/%=%);
QUIET_FUZZ  = @echo '   ' CC fuzz $(@:$(FB)/%=%);
QUIET_AR    = @echo '   ' AR $(@:build/%=%);
QUIET_LINK  = @echo '   ' LINK $(@:build/%=%);
QUIET_GEN   = @echo '   ' GEN $@;
QUIET_SCDOC = @echo '   ' SCDOC $@;
endif
endif

# A recipe that fails leaves no half-written target behind to look done.
.DELETE_ON_ERROR:

ifeq ($(SANITIZE),1)
VARIANT = san
# float-cast-overflow is not in "undefined": without it, a server's 1e300
# cast to an integer would pass unseen.
ALL_CFLAGS += -O1 -fsanitize=address,undefined,float-cast-overflow \
	      -fno-sanitize-recover=undefined,float-cast-overflow -fno-omit-frame-pointer
ALL_LDFLAGS += -fsanitize=address,undefined,float-cast-overflow
else
VARIANT = release
endif
B = build/$(VARIANT)

LIB_SRC = $(wildcard lib/*.c)
CMD_SRC = $(wildcard cmd/*.c)
UNIT_SRC = $(wildcard tests/unit/test-*.c)
LIB_OBJ = $(LIB_SRC:%.c=$(B)/%.o)
CMD_OBJ = $(CMD_SRC:%.c=$(B)/%.o)
UNIT_BIN = $(UNIT_SRC:%.c=$(B)/%)
BENCH_SRC = $(wildcard bench/bench-*.c)
BENCH_BIN = $(BENCH_SRC:%.c=$(B)/%)
MAN_SRC = $(wildcard man/*.scd)
MAN = $(MAN_SRC:.scd=)
# Pages made from the binary's own tables rather than from man/*.scd.
MAN_GEN = man/sre-config.5

DEBIAN_PACKAGES = gcc make pkg-config libcurl4-openssl-dev libcjson-dev \
	libgit2-dev libsqlite3-dev libreadline-dev libedit-dev scdoc sqlite3 \
	git perl man-db python3 python3-yaml libyaml-dev jq clang libclang-rt-14-dev \
	prometheus prometheus-alertmanager docker.io busybox-static

all: sre $(MAN) $(MAN_GEN)
.PHONY: all deps test run-tests demo run-demo bench bench-rca bench-llm-eval fuzz fuzz-build install uninstall clean FORCE

# Rebuild when the flags change, and relink ./sre whenever the variant
# changes, so `make test SANITIZE=1` never runs a stale binary (after git's
# GIT-CFLAGS). Each variant keeps its own objects.
$(B)/CFLAGS: FORCE
	@mkdir -p $(B)
	@echo '$(ALL_CFLAGS) $(READLINE)' | cmp -s - $@ || echo '$(ALL_CFLAGS) $(READLINE)' > $@

build/VARIANT: FORCE
	@mkdir -p build
	@echo '$(VARIANT)' | cmp -s - $@ || echo '$(VARIANT)' > $@

sre: $(CMD_OBJ) $(B)/libsre.a build/VARIANT
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -o $@ $(CMD_OBJ) $(B)/libsre.a $(PKG_LIBS)

# Empty when the library cannot be read: the file's default then holds.
$(B)/lib/lazy-curl.o: ALL_CFLAGS += $(addprefix -DSRE_CURL_SONAME=,$(patsubst %,'"%"',$(call soname,libcurl.so)))
$(B)/lib/lazy-libgit2.o: ALL_CFLAGS += $(addprefix -DSRE_LIBGIT2_SONAME=,$(patsubst %,'"%"',$(call soname,libgit2.so)))

$(B)/libsre.a: $(LIB_OBJ)
	@rm -f $@
	$(QUIET_AR)$(AR) rcs $@ $^

$(B)/%.o: %.c $(B)/CFLAGS
	@mkdir -p $(dir $@)
	$(QUIET_CC)$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

$(B)/tests/unit/%: tests/unit/%.c tests/unit/tap.h tests/unit/test-lib.h tests/unit/fake.h tests/unit/scout-test.h tests/unit/kube-test.h tests/unit/collect-test.h $(B)/libsre.a
	@mkdir -p $(dir $@)
	$(QUIET_LINK)$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -o $@ $< $(B)/libsre.a $(ALL_LDFLAGS) $(PKG_LIBS)

$(B)/bench/%: bench/%.c $(B)/libsre.a
	@mkdir -p $(dir $@)
	$(QUIET_LINK)$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -o $@ $< $(B)/libsre.a $(ALL_LDFLAGS) $(PKG_LIBS)

# The demo stack's services (examples/demo/run.sh): libc and threads only.
# They are the demo's fixtures, like the fakes of the tests: built without
# the sanitizers even under SANITIZE=1, so that sre is what runs under them
# and the stack keeps the timing the scenarios expect.
DEMO_SERVICE = build/demo/demo-service
$(DEMO_SERVICE): examples/demo/demo-service.c
	@mkdir -p $(dir $@)
	$(QUIET_LINK)$(CC) -std=c11 -D_GNU_SOURCE $(WARNINGS) $(CFLAGS) -o $@ $< $(LDFLAGS) -pthread

.PHONY: demo-service
demo-service: $(DEMO_SERVICE)

# Benchmarks print ratios against a baseline measured in the same run.
bench: sre $(BENCH_BIN)
	$(B)/bench/bench-startup ./sre
	$(B)/bench/bench-store 5000
	$(B)/bench/bench-scout
	$(B)/bench/bench-traces
	$(B)/bench/bench-logtemplate
	$(B)/bench/bench-memory 20000

# The published root-cause benchmark (bench/rca/): the Nezha TrainTicket
# development sample, imported into evidence bundles and scored beside the
# published table. It needs the fixtures, which are not in the repository.
RCA_FIXTURES ?= ../shared/fixtures/rca/nezha-trainticket
bench-rca: sre
	@if [ ! -f $(RCA_FIXTURES)/labels.json ]; then \
		echo "bench-rca: skipped: $(RCA_FIXTURES) is not here (set RCA_FIXTURES)"; exit 0; fi; \
	rm -rf $(B)/bench-rca && \
	python3 bench/rca/nezha-import.py $(RCA_FIXTURES) $(B)/bench-rca && \
	python3 bench/rca/score.py ./sre $(B)/bench-rca

# The LLM adviser against the model configured in [llm] (not in CI, which
# has no model): HolmesGPT-shaped cases and the project's bundles.
LLM_EVALS ?= ../shared/fixtures/llm-evals/holmesgpt
bench-llm-eval: sre
	python3 bench/llm-eval/run.py ./sre $(LLM_EVALS) $(patsubst %/incident.json,%,$(wildcard tests/data/diagnose/*/incident.json))

# libFuzzer targets (fuzz/fuzz-<name>.c): the library built again with
# clang for coverage and ASan+UBSan in its own directory. `make fuzz` runs
# each for FUZZ_SECONDS from its seeds in fuzz/corpus/<name> and fails on
# a crash (fuzz/run.sh); tests/t8900-fuzz.sh runs each for 2 s. clang, unlike
# gcc, counts the va_list formats of strbuf and util as non-literal.
FUZZ_CC = clang
FUZZ_SECONDS ?= 30
FB = build/fuzz
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARNINGS) -Wno-format-nonliteral -O1 -g -fno-omit-frame-pointer $(FUZZ_SAN) \
	      $(RL_CPPFLAGS) -DSRE_VERSION='"$(VERSION)"' -DSRE_MANDIR='"$(MANDIR)"' -MMD -MP
FUZZ_SRC = $(wildcard fuzz/fuzz-*.c)
FUZZ_BIN = $(FUZZ_SRC:fuzz/%.c=$(FB)/%)
FUZZ_LIB_OBJ = $(LIB_SRC:%.c=$(FB)/%.o)

$(FB)/CFLAGS: FORCE
	@mkdir -p $(FB)
	@echo '$(FUZZ_CC) $(FUZZ_CFLAGS) $(READLINE)' | cmp -s - $@ || \
		echo '$(FUZZ_CC) $(FUZZ_CFLAGS) $(READLINE)' > $@

$(FB)/lib/%.o: lib/%.c $(FB)/CFLAGS
	@mkdir -p $(dir $@)
	$(QUIET_FUZZ)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(PKG_CFLAGS) -c -o $@ $<

$(FB)/libsre.a: $(FUZZ_LIB_OBJ)
	@rm -f $@
	$(QUIET_AR)$(AR) rcs $@ $^

$(FB)/fuzz-%: fuzz/fuzz-%.c fuzz/fuzz.h $(FB)/libsre.a
	$(QUIET_LINK)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(PKG_CFLAGS) -o $@ $< $(FB)/libsre.a \
		$(PKG_LIBS)

fuzz-build: $(FUZZ_BIN)

# FUZZ_TARGETS="jaeger link" runs only those.
FUZZ_TARGETS ?= $(FUZZ_SRC:fuzz/fuzz-%.c=%)
fuzz: fuzz-build
	@FUZZ_SECONDS='$(FUZZ_SECONDS)' ./fuzz/run.sh $(FB) $(FUZZ_TARGETS)

man/%: man/%.scd
	$(QUIET_SCDOC)scdoc < $< > $@

# sre-config(5) lists the key table of lib/config.c as this sre prints it,
# read with no configuration of the builder's (nothing of theirs can
# change or break it); the scdoc source is kept for a look.
man/sre-config.5: sre
	@mkdir -p build
	$(QUIET_GEN)env -u SRE_CONFIG SRE_CONFIG_NOSYSTEM=1 HOME=/nonexistent \
		XDG_CONFIG_HOME=/nonexistent ./sre config --known-keys --man >build/sre-config.5.scd && \
		scdoc <build/sre-config.5.scd >$@

deps:
	@missing=; for p in $(DEBIAN_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || \
			missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
		echo "sre needs these Debian packages:$$missing"; \
		echo "run: sudo apt-get install -y$$missing"; exit 1; \
	fi; \
	echo "installing:$$missing"; \
	apt-get update -q >/dev/null && \
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing >/dev/null

# prove runs one script per processor, at least two (PROVE_JOBS=N to choose).
PROVE_JOBS ?= $(shell n=$$(getconf _NPROCESSORS_ONLN 2>/dev/null); \
	if [ "$${n:-0}" -gt 2 ] 2>/dev/null; then echo $$n; else echo 2; fi)

test: deps
	@$(MAKE) --no-print-directory run-tests

run-tests: sre $(MAN) $(MAN_GEN) $(UNIT_BIN) $(DEMO_SERVICE)
	SRE_BUILD_DIR='$(CURDIR)' SRE_UNIT_DIR='$(CURDIR)/$(B)/tests/unit' \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
		prove -j$(PROVE_JOBS) $(UNIT_BIN) tests/t[0-9]*.sh

demo: deps
	@$(MAKE) --no-print-directory run-demo

# The detect, diagnose, fix loop on the demo stack (examples/demo/run.sh).
run-demo: sre $(DEMO_SERVICE)
	@SRE='$(CURDIR)/sre' DEMO_SERVICE='$(CURDIR)/$(DEMO_SERVICE)' \
		./examples/demo/run.sh

install: sre $(MAN) $(MAN_GEN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	install -m 755 sre $(DESTDIR)$(BINDIR)/sre
	install -m 644 $(filter %.1,$(MAN) $(MAN_GEN)) $(DESTDIR)$(MANDIR)/man1/
	install -m 644 $(filter %.5,$(MAN) $(MAN_GEN)) $(DESTDIR)$(MANDIR)/man5/
	install -m 644 completions/sre.bash $(DESTDIR)$(BASHCOMPDIR)/sre
	install -m 644 completions/_sre $(DESTDIR)$(ZSHCOMPDIR)/_sre
	install -m 644 completions/sre.fish $(DESTDIR)$(FISHCOMPDIR)/sre.fish

# The mirror of install: every file it put in place, and nothing else.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/sre
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(filter %.1,$(MAN) $(MAN_GEN))))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(filter %.5,$(MAN) $(MAN_GEN))))
	rm -f $(DESTDIR)$(BASHCOMPDIR)/sre $(DESTDIR)$(ZSHCOMPDIR)/_sre \
		$(DESTDIR)$(FISHCOMPDIR)/sre.fish

clean:
	rm -rf build sre $(MAN) $(MAN_GEN) tests/trash.*

# What each object, unit test, benchmark and fuzz target was built from
# (-MMD -MP writes x.d beside x.o, and test-foo.d beside test-foo), so a
# changed header rebuilds everything that includes it.
-include $(LIB_OBJ:.o=.d) $(CMD_OBJ:.o=.d) $(UNIT_BIN:=.d) $(BENCH_BIN:=.d) \
	$(FUZZ_LIB_OBJ:.o=.d) $(FUZZ_BIN:=.d)
