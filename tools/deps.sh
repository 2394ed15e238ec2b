#!/bin/sh
# Install the Debian packages postern builds and tests with, only those missing.
# Runs apt-get update at most once. Needs root when anything is missing.
set -e
PKGS="gcc make pkg-config libevent-dev libc-ares-dev libssl-dev libcrypt-dev
libcmocka-dev python3 swaks iproute2 procps dnsmasq-base postfix
curl fetchmail msmtp isync offlineimap3 neomutt clang libclang-rt-14-dev valgrind
python3-dkim python3-spf python3-yaml python3-cryptography publicsuffix"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "deps: missing packages:$missing (run as root or install them)" >&2
		exit 1
	fi
	echo "deps: installing$missing"
	apt-get update -qq
	# postfix is installed only for smtp-sink (outbound tests): no
	# configuration, and no daemon may be left running or bound to port 25.
	# dnsmasq-base is the binary alone (the dnsmasq package starts a daemon).
	echo 'postfix postfix/main_mailer_type select No configuration' |
		debconf-set-selections
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
	if command -v postfix >/dev/null 2>&1; then
		postfix stop >/dev/null 2>&1 || true
		(systemctl disable --now postfix >/dev/null 2>&1) || true
	fi
fi
# As root, postern's children run as the system user 'postern'.
if [ "$(id -u)" = 0 ] && ! getent passwd postern >/dev/null; then
	echo "deps: creating system user postern"
	useradd --system --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin postern
fi
