#!/bin/sh
# make demo: a ready-made configuration under ./demo and the server in the
# foreground. Domain mydomain.test, users alice and bob, loopback only;
# remote mail is routed to a loopback port (nothing leaves this machine).
set -e
cd "$(dirname "$0")/.."
D=$(pwd)/demo
mkdir -p "$D"
SMTP_PORT=${DEMO_SMTP_PORT:-2525}
SINK_PORT=${DEMO_SINK_PORT:-2526}
POP3_PORT=${DEMO_POP3_PORT:-1110}
cat > "$D/postern.conf" <<CONF
# postern demo configuration (written by make demo; edit freely)
hostname = mx.mydomain.test
local_domains = mydomain.test
local_networks = 127.0.0.1/32, ::1/128
relay_rules = $D/relay_rules
users = $D/users
spool = $D/spool
listen_smtp = 127.0.0.1:$SMTP_PORT, [::1]:$SMTP_PORT
listen_pop3 = 127.0.0.1:$POP3_PORT
# a POP3 login lets that address relay for 15 minutes (POP-before-SMTP)
pop_before_smtp_ttl = 900
postmaster = alice
# every remote domain goes to a loopback sink: nothing leaves this machine
route * = 127.0.0.1:$SINK_PORT
CONF
cat > "$D/relay_rules" <<'RULES'
# tcprules syntax: 127.0.0.9 may relay, 127.0.0.66 is refused at connect
127.0.0.9:allow,RELAYCLIENT=""
127.0.0.66:deny
:allow
RULES
for u in alice bob; do
	if ! grep -q "^$u:" "$D/users" 2>/dev/null; then
		echo "$u-password" | ./postern user add --apop -c "$D/postern.conf" "$u"
	fi
done
./postern check -c "$D/postern.conf" >/dev/null
cat <<MSG

postern demo: SMTP on 127.0.0.1:$SMTP_PORT and [::1]:$SMTP_PORT, POP3 on 127.0.0.1:$POP3_PORT,
domain mydomain.test
users alice and bob (passwords alice-password, bob-password), mail in $D/spool/mail
try, in another terminal:
  swaks --server 127.0.0.1:$SMTP_PORT --to alice@mydomain.test          # accepted, delivered
  swaks --server 127.0.0.1:$SMTP_PORT --local-interface 127.0.0.2 \\
        --from x@mydomain.test --to someone@example.net                 # 554 5.7.1: not an open relay
  ./postern relay-check -c demo/postern.conf --client 127.0.0.2 --from x@mydomain.test --rcpt someone@example.net
  ls demo/spool/mail/alice/Maildir/new
  curl pop3://127.0.0.1:$POP3_PORT/1 -u alice:alice-password                  # read it by POP3
Ctrl-C stops the server.

MSG
exec ./postern serve -c "$D/postern.conf"
