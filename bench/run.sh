#!/bin/sh
# make bench: postern side by side with Postfix, smtp-sink and Dovecot,
# loopback only. QUICK=1: small counts; BENCH_ONLY / BENCH_SKIP choose
# scenario groups (see bench/bench.py). Installs dovecot-pop3d and
# dovecot-imapd if missing (here only, never for make check),
# runs bench/bench.py (the scenarios and the table, results in
# bench/results/), then checks that nothing was left running.
set -e
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
	echo "bench: run as root (private Postfix and Dovecot instances need it)" >&2
	exit 1
fi
sh tools/deps.sh
# Dovecot's POP3 and IMAP servers, installed here only (never for make
# check); valgrind comes with tools/deps.sh.
need=""
[ -x /usr/lib/dovecot/pop3 ] || need="$need dovecot-pop3d"
[ -x /usr/lib/dovecot/imap ] || need="$need dovecot-imapd"
if [ -n "$need" ]; then
	echo "bench: installing$need"
	apt-get update -qq
	# No system Dovecot may start: the bench runs a private instance.
	# policy-rc.d answers "no" to every init script during the install.
	had_policy=0
	[ -e /usr/sbin/policy-rc.d ] && had_policy=1
	if [ "$had_policy" = 0 ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null || true
	[ "$had_policy" = 0 ] && rm -f /usr/sbin/policy-rc.d
	(systemctl disable --now dovecot >/dev/null 2>&1) || true
fi
status=0
python3 bench/bench.py || status=$?
# Nothing may be left: no daemon of the bench, no listener on port 25.
left=$(pgrep -f 'postern-bench-' || true)
if [ -n "$left" ]; then
	echo "bench: processes left behind: $left" >&2
	status=1
fi
if command -v ss >/dev/null 2>&1 && ss -ltnH 'sport = :25' | grep -q .; then
	echo "bench: something listens on port 25" >&2
	status=1
fi
exit $status
