# postern - one Makefile for GNU make.  See README.md.
CC       ?= cc
PKGS      = libevent libcares libcrypto libssl
CFLAGS   ?= -O2 -g
WARN      = -Wall -Wextra -Wformat=2 -Wshadow -Wmissing-prototypes -Werror
CPPFLAGS += -D_GNU_SOURCE -Isrc
LDLIBS   += -levent_openssl -levent -lcares -lssl -lcrypto -lcrypt
# Debian's interpreter: its python3-* modules (dkimpy, pyspf) load there; a
# python3 earlier on PATH (pyenv) may lack them.
PYTHON   ?= $(firstword $(wildcard /usr/bin/python3) python3)

# Build directory: objects for the normal and the sanitizer builds live apart.
B        ?= build
SRCS     := $(sort $(wildcard src/*.c))

# The pure library: parsers, policy, session state machines and on-disk
# formats, which do no I/O (doc/ARCHITECTURE.md, "The pure library"). Every
# other module, a new one too until it is listed here, goes into
# libpostern.a, which links with this one. A pure module's unit test (and
# fuzz target) links against libpostern-pure.a alone, with libc and
# libcrypto (hashing is not I/O) but not libevent, libssl or c-ares: a pure
# module that calls into those or into an impure module does not link.
# fatal() (exit on a bug or out of memory) is the one symbol taken from
# outside; tests/unit/pure_fatal.c gives it there. The I/O the linker cannot
# see (libc's system calls, stdio, the clock) tools/check-pure.sh bans.
PURE     := address aliases apop authres base64 buf conn_limits decimal \
	dkim dkim_out dmarc dnsbl dns_cache dsn grants greylist hex imap_fetch imap_index \
	imap_mime imap_parse linebuf log_quote \
	mailbox_index maildrop msgheader netaddr pop3_session psl qfile \
	relay rules sasl schedule scram sendmail_args slots smtp_client \
	smtp_data smtp_session spf srs throttle users_name
PURELIBS  = -lcrypto
PURESRCS := $(PURE:%=src/%.c)
$(if $(filter-out $(SRCS),$(PURESRCS)),$(error PURE names no src/*.c: $(filter-out $(SRCS),$(PURESRCS))))
PUREOBJS := $(PURE:%=$(B)/%.o)
LIBSRCS  := $(filter-out src/main.c $(PURESRCS),$(SRCS))
LIBOBJS  := $(LIBSRCS:src/%.c=$(B)/%.o)
# Impure code may call pure code and (fatal) the other way round.
LINKLIBS  = -Wl,--start-group $(B)/libpostern.a $(B)/libpostern-pure.a -Wl,--end-group
UNITSRCS := $(sort $(wildcard tests/unit/test_*.c))
UNITBINS := $(UNITSRCS:tests/unit/%.c=$(B)/%)
PURETESTS := $(filter $(PURE:%=$(B)/test_%),$(UNITBINS))

.PHONY: all deps check unit integration demo lint check-asan check-valgrind fuzz fuzz-smoke bench bench-callgrind install clean

# The server binary; the sanitizer build puts its own under build-asan/.
BIN      ?= postern

all: $(BIN)

$(BIN): $(B)/main.o $(B)/libpostern.a $(B)/libpostern-pure.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(B)/main.o $(LINKLIBS) $(LDLIBS)

$(B)/libpostern.a: $(LIBOBJS)
	rm -f $@ && ar rcs $@ $^

$(B)/libpostern-pure.a: $(PUREOBJS)
	rm -f $@ && ar rcs $@ $^

$(B)/%.o: src/%.c $(wildcard src/*.h) | $(B)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -c -o $@ $<

$(B)/test_%: tests/unit/test_%.c $(B)/libpostern.a $(B)/libpostern-pure.a tests/unit/unit.h
	$(CC) $(CPPFLAGS) -Itests/unit $(CFLAGS) $(WARN) -Wno-missing-prototypes -o $@ $< $(LINKLIBS) $(LDLIBS) -lcmocka

# A pure module's test: the pure library and nothing with I/O in it.
$(PURETESTS): $(B)/test_%: tests/unit/test_%.c $(B)/libpostern-pure.a $(B)/pure_fatal.o tests/unit/unit.h
	$(CC) $(CPPFLAGS) -Itests/unit $(CFLAGS) $(WARN) -Wno-missing-prototypes -o $@ $< $(B)/pure_fatal.o $(B)/libpostern-pure.a $(PURELIBS) -lcmocka


$(B)/pure_fatal.o: tests/unit/pure_fatal.c src/log.h | $(B)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -c -o $@ $<

# Every pure module linked whole, tested or not: an undefined symbol here
# is a pure module calling outside the pure library, libc and libcrypto.
$(B)/pure-link-check: tests/unit/pure_fatal.c $(B)/libpostern-pure.a src/log.h
	$(CC) $(CPPFLAGS) -DPURE_LINK_CHECK $(CFLAGS) $(WARN) $(LDFLAGS) -o $@ $< \
		-Wl,--whole-archive $(B)/libpostern-pure.a -Wl,--no-whole-archive $(PURELIBS)

$(B):
	mkdir -p $(B)

# Debian packages the build and the tests need; installs only what is missing.
deps:
	@sh tools/deps.sh

unit: $(UNITBINS) $(B)/pure-link-check
	@sh tools/run-unit.sh $(UNITBINS)

integration: $(BIN)
	@POSTERN=$(abspath $(BIN)) $(PYTHON) tests/integration/run.py

check: deps
	@$(MAKE) --no-print-directory all unit
	@$(MAKE) --no-print-directory integration
	@$(MAKE) --no-print-directory lint

# LeakSanitizer stays on for unit and integration tests. The integration run
# writes every report (of any process: master, children, CLI) to
# build-asan/logs/asan.PID, which tools/sanitizer-logs.sh then checks (a
# report in a child does not always fail a test by itself).
ASAN_MAKE = $(MAKE) --no-print-directory B=build-asan BIN=build-asan/postern \
	CFLAGS="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	LDFLAGS="-fsanitize=address,undefined"
ASAN_LOGS = $(abspath build-asan/logs)

check-asan: deps
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $(ASAN_MAKE) all unit
	@rm -rf $(ASAN_LOGS) && mkdir -p $(ASAN_LOGS) && chmod 1777 $(ASAN_LOGS)
	@ASAN_OPTIONS=detect_leaks=1:log_path=$(ASAN_LOGS)/asan \
	UBSAN_OPTIONS=print_stacktrace=1:log_path=$(ASAN_LOGS)/asan \
		$(ASAN_MAKE) integration; st=$$?; \
		sh tools/sanitizer-logs.sh $(ASAN_LOGS) || st=1; exit $$st

# libFuzzer targets (clang; Debian's clang 14 needs libclang-rt-14-dev).
# Every fuzz/fuzz_*.c links against build-fuzz/libpostern.a and
# build-fuzz/libpostern-pure.a, the real src modules built with
# -fsanitize=fuzzer-no-link,address,undefined; a pure module's target
# (fuzz_MODULE, MODULE in PURE) against the pure library alone.
#   make fuzz                                   build every target
#   make fuzz FUZZ_TIME=3600 TARGET=fuzz_address   then fuzz one for an hour
#   make fuzz-smoke [FUZZ_SMOKE_TIME=20]         each target N s, fail on crash
# Runs read fuzz/corpus/NAME but write new inputs to build-fuzz/corpus/NAME and
# crashes to build-fuzz/crashes/; the committed corpus is never written.
FUZZ_CC     ?= clang
FUZZ_CFLAGS ?= -g -O1 -fno-omit-frame-pointer
FUZZ_SAN     = address,undefined -fno-sanitize-recover=all
FUZZ_TIME   ?=
TARGET      ?=
FUZZ_SMOKE_TIME ?= 20
FUZZSRCS    := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZBINS    := $(FUZZSRCS:fuzz/%.c=build-fuzz/%)
FUZZOBJS    := $(LIBSRCS:src/%.c=build-fuzz/obj/%.o)
FUZZPUREOBJS := $(PURESRCS:src/%.c=build-fuzz/obj/%.o)
FUZZPUREBINS := $(filter $(PURE:%=build-fuzz/fuzz_%),$(FUZZBINS))
FUZZLIBS     = -Wl,--start-group build-fuzz/libpostern.a build-fuzz/libpostern-pure.a -Wl,--end-group

fuzz: $(FUZZBINS)
	@if [ -n "$(FUZZ_TIME)" ]; then \
		FUZZ_ONLY="$(TARGET)" sh tools/fuzz-smoke.sh long $(FUZZ_TIME) $(FUZZBINS); fi

fuzz-smoke: $(FUZZBINS)
	@sh tools/fuzz-smoke.sh smoke $(FUZZ_SMOKE_TIME) $(FUZZBINS)

build-fuzz/obj/%.o: src/%.c $(wildcard src/*.h)
	@mkdir -p build-fuzz/obj
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) $(WARN) -fsanitize=fuzzer-no-link,$(FUZZ_SAN) -c -o $@ $<

build-fuzz/obj/pure_fatal.o: tests/unit/pure_fatal.c src/log.h
	@mkdir -p build-fuzz/obj
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) $(WARN) -fsanitize=fuzzer-no-link,$(FUZZ_SAN) -c -o $@ $<

build-fuzz/libpostern.a: $(FUZZOBJS)
	rm -f $@ && ar rcs $@ $^

build-fuzz/libpostern-pure.a: $(FUZZPUREOBJS)
	rm -f $@ && ar rcs $@ $^

build-fuzz/fuzz_%: fuzz/fuzz_%.c build-fuzz/libpostern.a build-fuzz/libpostern-pure.a $(wildcard src/*.h)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) $(WARN) -fsanitize=fuzzer,$(FUZZ_SAN) -o $@ $< $(FUZZLIBS) $(LDLIBS)

$(FUZZPUREBINS): build-fuzz/fuzz_%: fuzz/fuzz_%.c build-fuzz/libpostern-pure.a build-fuzz/obj/pure_fatal.o $(wildcard src/*.h)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) $(WARN) -fsanitize=fuzzer,$(FUZZ_SAN) -o $@ $< \
		build-fuzz/obj/pure_fatal.o build-fuzz/libpostern-pure.a $(PURELIBS)

# Unit tests and integration tests under valgrind memcheck (normal build):
# `postern serve` and its children run under valgrind (harness.py's
# POSTERN_VALGRIND); logs in build/valgrind/. VALGRIND_TESTS picks the
# integration tests (test_*.py module names; empty: all of them). The default
# leaves out tests whose timing does not survive valgrind's slowdown
# (test_pop3, test_queue_admin, test_outbound_*, the load tests).
VALGRIND_TESTS ?= test_smtp_basic test_relay test_smuggling test_auth test_tls \
	test_sendmail test_logs test_cli

check-valgrind: deps all $(UNITBINS)
	@PYTHON=$(PYTHON) POSTERN=$(abspath $(BIN)) sh tools/check-valgrind.sh $(abspath $(B)/valgrind) \
		$(UNITBINS) -- $(VALGRIND_TESTS)

demo: deps all
	@sh tools/demo.sh

lint: $(B)/pure-link-check
	@sh tools/lint.sh
	@sh tools/check-pure.sh $(PUREOBJS)

install: all
	install -d $(DESTDIR)/usr/sbin
	install -m 0755 postern $(DESTDIR)/usr/sbin/postern
	@# sendmail, mailq, newaliases links for cron, PHP, mail(1): never over
	@# another MTA's (postern sendmail|mailq|newaliases work regardless).
	@install -d $(DESTDIR)/usr/bin; \
	for l in sbin/sendmail bin/mailq bin/newaliases; do \
		if [ -e $(DESTDIR)/usr/$$l ] || [ -L $(DESTDIR)/usr/$$l ]; then \
			echo "install: $(DESTDIR)/usr/$$l exists; left alone (use 'postern $${l#*/}')"; \
		else \
			echo "ln -sf /usr/sbin/postern $(DESTDIR)/usr/$$l"; \
			ln -sf /usr/sbin/postern $(DESTDIR)/usr/$$l; \
		fi; \
	done
	@# Started as root, postern's children run as this system user.
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && ! getent passwd postern >/dev/null; then \
		echo "useradd --system postern"; \
		useradd --system --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin postern; \
	fi

# Side-by-side benchmarks against Postfix and Dovecot (not part of check).
bench: all
	@QUICK=$(QUICK) sh bench/run.sh

bench-callgrind: all
	@BENCH_ONLY=callgrind sh bench/run.sh

clean:
	rm -rf build build-asan build-fuzz postern
