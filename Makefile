# postern - one Makefile for GNU make.  See README.md.
CC       ?= cc
PKGS      = libevent libcares libcrypto libssl
CFLAGS   ?= -O2 -g
WARN      = -Wall -Wextra -Wformat=2 -Wshadow -Wmissing-prototypes -Werror
CPPFLAGS += -D_GNU_SOURCE -Isrc
LDLIBS   += -levent_openssl -levent -lcares -lssl -lcrypto -lcrypt
PYTHON   ?= python3

# Build directory: objects for the normal and the sanitizer builds live apart.
B        ?= build
SRCS     := $(sort $(wildcard src/*.c))
LIBSRCS  := $(filter-out src/main.c,$(SRCS))
LIBOBJS  := $(LIBSRCS:src/%.c=$(B)/%.o)
UNITSRCS := $(sort $(wildcard tests/unit/test_*.c))
UNITBINS := $(UNITSRCS:tests/unit/%.c=$(B)/%)

.PHONY: all deps check unit integration demo lint check-asan check-valgrind fuzz fuzz-smoke bench install clean

# The server binary; the sanitizer build puts its own under build-asan/.
BIN      ?= postern

all: $(BIN)

$(BIN): $(B)/main.o $(B)/libpostern.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/libpostern.a: $(LIBOBJS)
	rm -f $@ && ar rcs $@ $^

$(B)/%.o: src/%.c $(wildcard src/*.h) | $(B)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -c -o $@ $<

$(B)/test_%: tests/unit/test_%.c $(B)/libpostern.a tests/unit/unit.h
	$(CC) $(CPPFLAGS) -Itests/unit $(CFLAGS) $(WARN) -Wno-missing-prototypes -o $@ $< $(B)/libpostern.a $(LDLIBS) -lcmocka

$(B):
	mkdir -p $(B)

# Debian packages the build and the tests need; installs only what is missing.
deps:
	@sh tools/deps.sh

unit: $(UNITBINS)
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
# Every fuzz/fuzz_*.c links against build-fuzz/libpostern.a, the real src
# modules built with -fsanitize=fuzzer-no-link,address,undefined.
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

fuzz: $(FUZZBINS)
	@if [ -n "$(FUZZ_TIME)" ]; then \
		FUZZ_ONLY="$(TARGET)" sh tools/fuzz-smoke.sh long $(FUZZ_TIME) $(FUZZBINS); fi

fuzz-smoke: $(FUZZBINS)
	@sh tools/fuzz-smoke.sh smoke $(FUZZ_SMOKE_TIME) $(FUZZBINS)

build-fuzz/obj/%.o: src/%.c $(wildcard src/*.h)
	@mkdir -p build-fuzz/obj
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) $(WARN) -fsanitize=fuzzer-no-link,$(FUZZ_SAN) -c -o $@ $<

build-fuzz/libpostern.a: $(FUZZOBJS)
	rm -f $@ && ar rcs $@ $^

build-fuzz/fuzz_%: fuzz/fuzz_%.c build-fuzz/libpostern.a $(wildcard src/*.h)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) $(WARN) -fsanitize=fuzzer,$(FUZZ_SAN) -o $@ $< build-fuzz/libpostern.a $(LDLIBS)

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

lint:
	@sh tools/lint.sh

install: all
	install -d $(DESTDIR)/usr/sbin
	install -m 0755 postern $(DESTDIR)/usr/sbin/postern
	@# A sendmail link for cron, PHP, mail(1): never over another MTA's.
	@if [ -e $(DESTDIR)/usr/sbin/sendmail ] || [ -L $(DESTDIR)/usr/sbin/sendmail ]; then \
		echo "install: $(DESTDIR)/usr/sbin/sendmail exists; left alone (use 'postern sendmail')"; \
	else \
		echo "ln -sf postern $(DESTDIR)/usr/sbin/sendmail"; \
		ln -sf postern $(DESTDIR)/usr/sbin/sendmail; \
	fi
	@# Started as root, postern's children run as this system user.
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && ! getent passwd postern >/dev/null; then \
		echo "useradd --system postern"; \
		useradd --system --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin postern; \
	fi

# Side-by-side benchmarks against Postfix and Dovecot (not part of check).
bench: all
	@sh bench/run.sh

clean:
	rm -rf build build-asan build-fuzz postern
