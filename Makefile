# deskd - build, run, test, bench. `make run` and `make test` work on a fresh
# Debian 12 machine: `deps` installs the missing -dev packages first.

BUILD    ?= build
CC       ?= gcc
PKGS     := libzmq lmdb msgpack libevent libsodium inih jansson libsystemd \
            cmocka fuse3 libpq
# What each build dependency is checked by, and the package that gives it
# (tools/need.sh installs only what is missing).
NEED_BUILD := cmd:pkg-config=pkg-config pc:libzmq=libzmq3-dev \
              pc:lmdb=liblmdb-dev pc:msgpack=libmsgpack-dev \
              pc:libevent=libevent-dev pc:libsodium=libsodium-dev \
              pc:inih=libinih-dev pc:jansson=libjansson-dev \
              pc:libsystemd=libsystemd-dev pc:cmocka=libcmocka-dev \
              pc:fuse3=libfuse3-dev cmd:fusermount3=fuse3 pc:libpq=libpq-dev
WARN     := -Wall -Wextra -Wstrict-prototypes -Wshadow -Werror
CFLAGS   ?= -O2 -g
# Mandatory flags stay even when CFLAGS is given on the command line.
ALL_CFLAGS = -std=c11 $(WARN) -D_DEFAULT_SOURCE -D_XOPEN_SOURCE=700 \
             -D_GNU_SOURCE -MMD -MP $(CFLAGS)
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs libzmq lmdb msgpack libevent \
                     libsodium inih jansson libsystemd 2>/dev/null) -lm
SAN      := -fsanitize=address,undefined -fno-sanitize-recover=all \
            -fno-omit-frame-pointer

LIB_SRC  := $(wildcard core/*.c) \
            $(wildcard handlers/*.c) $(wildcard projections/*.c)
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
TOOLS    := deskctl deskbench deskaudit feebench cmpbench cardbench pipebase
BENCH_TOOLS := feebench cmpbench cardbench pipebase # share tools/benchcli.c
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
INT_SRC  := $(wildcard tests/integration/it_*.c)
INT_BIN  := $(INT_SRC:tests/integration/%.c=$(BUILD)/tests/%)
HARNESS  := $(BUILD)/tests/integration/harness.o \
            $(BUILD)/tests/integration/desk.o \
            $(BUILD)/tests/integration/crashload.o \
            $(BUILD)/tests/powerfs/pfs.o \
            $(BUILD)/tests/common/tmptree.o \
            $(BUILD)/tests/common/logfix.o
# powerfs: the FUSE filesystem that forgets what was never flushed (power
# loss tests); its own tests are test_powerfs.
POWERFS  := $(BUILD)/powerfs $(BUILD)/tests/test_powerfs
FUSE_CFLAGS = $(shell pkg-config --cflags fuse3 2>/dev/null)
FUSE_LIBS   = $(shell pkg-config --libs fuse3 2>/dev/null)

.PHONY: all deps run test unit integration check-asan test-asan bench bench-ir \
        pg-deps torture torture-power torture-power-unsafe fmt fmt-check clean \
        docs docs-check deps-check install uninstall install-check man

all: deps-check $(BUILD)/deskd $(TOOLS:%=$(BUILD)/%) $(BUILD)/desksink \
     $(UNIT_BIN) $(INT_BIN) $(POWERFS)

# Installs what pkg-config cannot find (root, no terminal: CI).
deps:
	@bash tools/need.sh $(NEED_BUILD)

deps-check:
	@pkg-config --exists $(PKGS) 2>/dev/null || $(MAKE) --no-print-directory deps

$(BUILD)/%.o: %.c | deps-check
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(BUILD)/libdesk.a: $(LIB_OBJ)
	ar rcs $@ $^

$(BUILD)/deskd: $(BUILD)/app/main.o $(BUILD)/libdesk.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(PKG_LIBS)

$(TOOLS:%=$(BUILD)/%): $(BUILD)/%: $(BUILD)/tools/%.o $(BUILD)/libdesk.a
	$(CC) $(ALL_CFLAGS) -o $@ $(filter %.o,$^) $(BUILD)/libdesk.a $(PKG_LIBS)

$(BENCH_TOOLS:%=$(BUILD)/%): $(BUILD)/tools/benchcli.o
CURVE_TOOLS := deskctl deskbench # share tools/curvecli.c
$(CURVE_TOOLS:%=$(BUILD)/%): $(BUILD)/tools/curvecli.o
$(BUILD)/deskctl: $(BUILD)/tools/follow.o # shared with desksink
$(BUILD)/deskctl: $(BUILD)/tools/sheet.o

# desksink: deskd shards -> PostgreSQL (libpq); tools/desksink.sql built in
# as a C string, so the binary installs its own schema.
$(BUILD)/tools/desksink_sql.c: tools/desksink.sql
	@mkdir -p $(dir $@)
	awk 'BEGIN { print "const char desksink_sql[] =" } \
	  { gsub(/\\/, "\\\\"); gsub(/"/, "\\\""); print "    \"" $$0 "\\n\"" } \
	  END { print "    \"\";" }' $< > $@
$(BUILD)/tools/desksink_sql.o: $(BUILD)/tools/desksink_sql.c
	$(CC) $(ALL_CFLAGS) -c $< -o $@
$(BUILD)/desksink: $(BUILD)/tools/desksink.o $(BUILD)/tools/follow.o \
                   $(BUILD)/tools/curvecli.o $(BUILD)/tools/desksink_sql.o \
                   $(BUILD)/libdesk.a
	$(CC) $(ALL_CFLAGS) -o $@ $(filter %.o,$^) $(BUILD)/libdesk.a \
	  $(PKG_LIBS) $(shell pkg-config --libs libpq) -lpthread

$(BUILD)/tests/test_%: $(BUILD)/tests/unit/test_%.o \
                       $(BUILD)/tests/common/logfix.o $(BUILD)/libdesk.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(PKG_LIBS) -lcmocka

$(BUILD)/tests/it_%: $(BUILD)/tests/integration/it_%.o $(HARNESS) $(BUILD)/libdesk.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(PKG_LIBS) $(IT_LIBS) -lcmocka
# it_sink talks to PostgreSQL itself and runs desksink
$(BUILD)/tests/it_sink: IT_LIBS = $(shell pkg-config --libs libpq)
$(BUILD)/tests/it_sink: | $(BUILD)/desksink

$(BUILD)/powerfs: tests/powerfs/powerfs.c | deps-check
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(FUSE_CFLAGS) -o $@ $< $(FUSE_LIBS) -lpthread

$(BUILD)/tests/test_powerfs: $(BUILD)/tests/powerfs/test_powerfs.o \
                             $(BUILD)/tests/powerfs/pfs.o \
                             $(BUILD)/tests/common/tmptree.o
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ -lcmocka

run: all
	@mkdir -p var
	$(BUILD)/deskd -c config/deskd.conf

# PostgreSQL server and client for the desksink tests (tools/pgtmp.sh)
NEED_PG := 'file:/usr/lib/postgresql/*/bin/initdb=postgresql' \
           cmd:psql=postgresql-client
pg-deps:
	@bash tools/need.sh $(NEED_PG)

test: all docs-check e2e-deps pg-deps
	@DESKD_BIN=$(BUILD)/deskd DESKD_TOOLS=$(BUILD) bash tests/run.sh $(UNIT_BIN) \
	  $(BUILD)/tests/test_powerfs $(INT_BIN)
	@$(MAKE) --no-print-directory install-check
	@$(MAKE) --no-print-directory e2e

unit: all
	@bash tests/run.sh $(UNIT_BIN)

integration: all pg-deps
	@DESKD_BIN=$(BUILD)/deskd DESKD_TOOLS=$(BUILD) bash tests/run.sh $(INT_BIN)

# Every test under AddressSanitizer and UBSan, in its own build tree.
check-asan test-asan: deps-check
	@$(MAKE) --no-print-directory BUILD=build-asan CFLAGS="-O1 -g $(SAN)" test

# Crash-recovery test with many more kills than `make test` runs.
torture: all
	DESKD_BIN=$(BUILD)/deskd CRASH_ROUNDS=$${CRASH_ROUNDS:-200} \
	  $(BUILD)/tests/it_crash

# Power-loss test: deskd's data dir on powerfs, a power cut per round
# (POWER_ROUNDS, 100); the last line sums the rounds up. `make test` runs 5.
# torture-power-unsafe runs it against a log opened MDB_NOSYNC (a test-only
# switch) and passes only if the test catches the lost acknowledgements.
POWER_RUN = DESKD_BIN=$(BUILD)/deskd DESKD_TOOLS=$(BUILD) \
  $(BUILD)/tests/it_power > $(BUILD)/$@.log 2>&1; echo $$? > $(BUILD)/$@.rc
torture-power: all
	@{ POWER_ROUNDS=$${POWER_ROUNDS:-100} $(POWER_RUN); } ; \
	  cat $(BUILD)/$@.log; \
	  if grep -q '^SKIPPED' $(BUILD)/$@.log; then \
	    echo "torture-power: could not run: $$(sed -n 's/^SKIPPED: //p' $(BUILD)/$@.log)"; exit 1; fi; \
	  grep '^power: [0-9]* rounds' $(BUILD)/$@.log; exit $$(cat $(BUILD)/$@.rc)

torture-power-unsafe: all
	@{ DESKD_TEST_UNSAFE_NOSYNC=1 POWER_ROUNDS=$${POWER_ROUNDS:-20} \
	  $(POWER_RUN); }; cat $(BUILD)/$@.log; \
	  if grep -q '^SKIPPED' $(BUILD)/$@.log; then exit 1; fi; \
	  if [ "$$(cat $(BUILD)/$@.rc)" = 0 ]; then \
	    echo "torture-power-unsafe: the unsafe log lost nothing: the test cannot see losses"; exit 1; fi; \
	  grep '^power: [0-9]* rounds' $(BUILD)/$@.log; \
	  echo "torture-power-unsafe: failed as expected (the harness sees lost acknowledgements)"

bench: all
	bash tools/bench.sh $(BUILD)

# Instructions per command under callgrind: the same from run to run, so
# small changes in deskd's work show where events/s on a shared machine
# cannot (tools/bench_ir.sh).
bench-ir: all
	bash tools/bench_ir.sh $(BUILD)

# docs/PROTOCOL.md = hand-written contract + the limits table and the
# reference generated from the config defaults and the command table, with a
# real reply per command that it_examples records in
# docs/protocol-examples.json; docs-check (part of `make test`) and
# it_examples fail when either is stale, and docs-check when another doc
# states a limit other than deskd's (tools/docs-limits.sh).
docs: all
	@DESKD_EXAMPLES_WRITE=1 DESKD_BIN=$(BUILD)/deskd \
	  $(BUILD)/tests/it_examples > /dev/null
	@{ sed '/^## Limits$$/q' docs/PROTOCOL.md; echo; \
	  $(BUILD)/deskctl --protocol-md docs/protocol-examples.json; } \
	  > docs/PROTOCOL.md.tmp
	@mv docs/PROTOCOL.md.tmp docs/PROTOCOL.md

docs-check: all
	@{ sed '/^## Limits$$/q' docs/PROTOCOL.md; echo; \
	  $(BUILD)/deskctl --protocol-md docs/protocol-examples.json; } | \
	  cmp -s - docs/PROTOCOL.md || \
	  { echo "docs/PROTOCOL.md is stale: run make docs"; exit 1; }
	@bash tools/docs-limits.sh

fmt:
	clang-format -i $(shell git ls-files '*.c' '*.h')

fmt-check:
	clang-format --dry-run -Werror $(shell git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# keep test objects between runs (they are pattern-rule intermediates)
.SECONDARY:

# Browser end-to-end test of the dashboard: headless Chromium (Debian) driven
# by playwright-core (npm, pinned in tests/e2e/package-lock.json). Installs
# what is missing (root, no terminal: CI); any failure fails the test.
E2E_DIR  := tests/e2e
# node is installed from Debian only when there is none; npm only beside
# Debian's node (a node from elsewhere brings its own, see tools/need.sh).
NEED_E2E := cmd:chromium=chromium deb:fonts-noto-cjk cmd:node=nodejs npm
.PHONY: e2e e2e-deps
e2e-deps:
	@bash tools/need.sh $(NEED_E2E)
	@test -f $(E2E_DIR)/node_modules/playwright-core/package.json || \
	  (cd $(E2E_DIR) && npm ci --no-audit --no-fund --loglevel=error)

e2e: all e2e-deps
	@BUILD=$(BUILD) E2E_OUT=$(BUILD)/test-output node $(E2E_DIR)/dashboard.test.js

# ---- make install / uninstall (docs/INSTALL.md) ----
# PREFIX and DESTDIR as usual; the config goes to $(SYSCONFDIR)/deskd/, the
# unit's data directory is always /var/lib/deskd (StateDirectory=deskd).
# The files with @NAME@ placeholders (the unit, the man pages) and the
# example config are made again in $(BUILD)/dist on every install, so a
# changed PREFIX is never stale.
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
SYSCONFDIR ?= $(PREFIX)/etc
DATADIR    ?= $(PREFIX)/share/deskd
MANDIR     ?= $(PREFIX)/share/man
UNITDIR    ?= $(PREFIX)/lib/systemd/system
STATEDIR   := /var/lib/deskd
INSTALL    ?= install
VERSION    := $(shell sed -n 's/^\#define DESKD_VERSION "\(.*\)"/\1/p' core/version.h)
INST_BIN   := deskd deskctl deskaudit deskbench
MAN_PAGES  := deskd.8 deskctl.1 deskaudit.1 deskd.conf.5
ETC_FILES  := deskd.conf holidays.tsv fees.tsv
DIST       := $(BUILD)/dist
SUBST = sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@BINDIR@|$(BINDIR)|g' \
        -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' -e 's|@DATADIR@|$(DATADIR)|g' \
        -e 's|@STATEDIR@|$(STATEDIR)|g'
.PHONY: dist-files

# The unit, and the example config: config/deskd.conf with the data in the
# unit's state directory and the installed dashboard (sed only, no build).
dist-files:
	@mkdir -p $(DIST)/etc
	@$(SUBST) dist/deskd.service.in > $(DIST)/deskd.service
	@sed -e 's|^data_dir = .*|data_dir = $(STATEDIR)|' \
	  -e 's|^dashboard_dir = .*|dashboard_dir = $(DATADIR)/dashboard|' \
	  -e '2s|`make run`.*|Installed by `make install`, see deskd.conf(5).|' \
	  config/deskd.conf > $(DIST)/etc/deskd.conf
	@cp config/holidays.tsv config/fees.tsv $(DIST)/etc/

# The man pages as installed, in $(BUILD)/dist/man (read one with man -l);
# deskctl(1) gets its command list from the command table.
man: all
	@mkdir -p $(DIST)/man
	@$(BUILD)/deskctl --man-commands > $(DIST)/man-commands.mdoc
	@set -e; for p in $(MAN_PAGES); do \
	  sed -e '/^@COMMANDS@$$/r $(DIST)/man-commands.mdoc' \
	    -e '/^@COMMANDS@$$/d' man/$$p.in | $(SUBST) > $(DIST)/man/$$p; done

install: all dist-files man
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/dashboard \
	  $(DESTDIR)$(SYSCONFDIR)/deskd $(DESTDIR)$(UNITDIR) \
	  $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	$(INSTALL) -m 0755 $(INST_BIN:%=$(BUILD)/%) $(DESTDIR)$(BINDIR)/
	$(INSTALL) -m 0644 tools/dashboard/* $(DESTDIR)$(DATADIR)/dashboard/
	$(INSTALL) -m 0644 $(DIST)/deskd.service $(DESTDIR)$(UNITDIR)/
	@set -e; for p in $(MAN_PAGES); do \
	  $(INSTALL) -m 0644 $(DIST)/man/$$p $(DESTDIR)$(MANDIR)/man$${p##*.}/; done
	@# the config is the admin's once there: never overwritten
	@set -e; for f in $(ETC_FILES); do d=$(DESTDIR)$(SYSCONFDIR)/deskd/$$f; \
	  if [ ! -e $$d ]; then $(INSTALL) -m 0644 $(DIST)/etc/$$f $$d; \
	  elif ! cmp -s $(DIST)/etc/$$f $$d; then \
	    $(INSTALL) -m 0644 $(DIST)/etc/$$f $$d.new; \
	    echo "kept $$d (yours); the shipped one is $$d.new"; fi; done
	@echo "installed deskd $(VERSION) in $(DESTDIR)$(PREFIX)"

# Removes what install put there; a config file changed since stays, and
# the data (/var/lib/deskd) is never touched.
uninstall: dist-files
	rm -f $(INST_BIN:%=$(DESTDIR)$(BINDIR)/%) \
	  $(DESTDIR)$(UNITDIR)/deskd.service \
	  $(foreach p,$(MAN_PAGES),$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(p)))/$(p))
	rm -f $(patsubst %,$(DESTDIR)$(DATADIR)/dashboard/%,$(notdir $(wildcard tools/dashboard/*)))
	@rmdir $(DESTDIR)$(DATADIR)/dashboard $(DESTDIR)$(DATADIR) 2>/dev/null || true
	@set -e; for f in $(ETC_FILES); do d=$(DESTDIR)$(SYSCONFDIR)/deskd/$$f; \
	  rm -f $$d.new; if [ -e $$d ]; then \
	    if cmp -s $(DIST)/etc/$$f $$d; then rm $$d; \
	    else echo "kept $$d (changed since install)"; fi; fi; done
	@rmdir $(DESTDIR)$(SYSCONFDIR)/deskd 2>/dev/null || true

# make install into a temporary DESTDIR, the installed deskd started with
# the installed config, the unit checked by systemd-analyze, the man pages
# rendered, make uninstall (part of make test).
install-check: all
	@BUILD=$(BUILD) bash tests/install.sh

# libFuzzer targets (tests/fuzz/fuzz_*.c) under ASan+UBSan in their own
# build tree; not part of `make test`. Each runs FUZZ_SECONDS from a seed
# corpus made from the command table's examples and the config files; a
# crash leaves its input in build-fuzz/ and fails the target.
FUZZ_BUILD   := build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := codec cmd config calendar
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined
.PHONY: fuzz fuzz-deps fuzz-build
fuzz-deps:
	@bash tools/need.sh cmd:clang=clang \
	  'file:/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a=libclang-rt-14-dev'

fuzz-build: fuzz-deps deps-check
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=clang \
	  CFLAGS="-O1 -g -fno-omit-frame-pointer -Wno-missing-field-initializers -fsanitize=fuzzer-no-link $(FUZZ_SAN)" \
	  $(FUZZ_BUILD)/libdesk.a
	@for t in $(FUZZ_TARGETS) seed; do \
	  clang $(ALL_CFLAGS) -O1 -g -fsanitize=fuzzer$$([ $$t = seed ] && echo -no-link) \
	    $(FUZZ_SAN) $(PKG_CFLAGS) tests/fuzz/fuzz_$$t.c $(FUZZ_BUILD)/libdesk.a \
	    $(PKG_LIBS) $$([ $$t = seed ] && echo -fsanitize=fuzzer-no-link) \
	    -o $(FUZZ_BUILD)/fuzz_$$t || exit 1; done

fuzz: fuzz-build
	@rm -rf $(FUZZ_BUILD)/seeds && $(FUZZ_BUILD)/fuzz_seed $(FUZZ_BUILD)/seeds \
	  config/deskd.conf config/holidays.tsv
	@cp -r tests/fuzz/regress/. $(FUZZ_BUILD)/seeds/ 2>/dev/null || true
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$t $(FUZZ_BUILD)/seeds/$$t; \
	  echo "== fuzz_$$t for $(FUZZ_SECONDS) s"; \
	  (cd $(FUZZ_BUILD) && ./fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
	    -max_len=65536 -print_final_stats=1 corpus/$$t seeds/$$t \
	    2>&1 | tee fuzz_$$t.log | grep -E "DONE|^stat::number|^stat::new|ERROR|SUMMARY") ; \
	  grep -q "ERROR: " $(FUZZ_BUILD)/fuzz_$$t.log && \
	    { echo "fuzz_$$t: crash, see $(FUZZ_BUILD)/fuzz_$$t.log"; exit 1; }; \
	done; true
