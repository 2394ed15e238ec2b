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
SUB_PORT=${DEMO_SUBMISSION_PORT:-2587}
SMTPS_PORT=${DEMO_SMTPS_PORT:-2465}
POP3S_PORT=${DEMO_POP3S_PORT:-1995}
IMAP_PORT=${DEMO_IMAP_PORT:-1143}
IMAPS_PORT=${DEMO_IMAPS_PORT:-1993}
# A self-signed certificate for the demo's TLS listeners.
mkdir -p "$D/tls"
if [ ! -f "$D/tls/cert.pem" ]; then
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-days 365 -subj /CN=mx.mydomain.test \
		-addext "subjectAltName=DNS:mx.mydomain.test,DNS:localhost,IP:127.0.0.1,IP:::1" \
		-keyout "$D/tls/key.pem" -out "$D/tls/cert.pem" 2>/dev/null
	chmod 600 "$D/tls/key.pem"
fi
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
# TLS: STARTTLS/STLS everywhere, submission (AUTH required) and implicit TLS
tls_cert = $D/tls/cert.pem
tls_key = $D/tls/key.pem
listen_submission = 127.0.0.1:$SUB_PORT
listen_smtps = 127.0.0.1:$SMTPS_PORT
listen_pop3s = 127.0.0.1:$POP3S_PORT
# IMAP (STARTTLS) and IMAPS over the same Maildirs; an IMAP login grants
# relay like a POP3 one (IMAP-before-SMTP)
listen_imap = 127.0.0.1:$IMAP_PORT
listen_imaps = 127.0.0.1:$IMAPS_PORT
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

postern demo, domain mydomain.test: SMTP on 127.0.0.1:$SMTP_PORT and [::1]:$SMTP_PORT,
submission $SUB_PORT, smtps $SMTPS_PORT, POP3 $POP3_PORT, pop3s $POP3S_PORT,
IMAP $IMAP_PORT, imaps $IMAPS_PORT (self-signed certificate)
users alice and bob (passwords alice-password, bob-password), mail in $D/spool/mail
try, in another terminal:
  swaks --server 127.0.0.1:$SMTP_PORT --to alice@mydomain.test          # accepted, delivered
  swaks --server 127.0.0.1:$SMTP_PORT --local-interface 127.0.0.2 \\
        --from x@mydomain.test --to someone@example.net                 # 554 5.7.1: not an open relay
  ./postern relay-check -c demo/postern.conf --client 127.0.0.2 --from x@mydomain.test --rcpt someone@example.net
  ls demo/spool/mail/alice/Maildir/new
  curl -k pop3s://127.0.0.1:$POP3S_PORT/1 -u alice:alice-password            # read it by POP3 over TLS
  curl -k "imaps://127.0.0.1:$IMAPS_PORT/INBOX;UID=1" -u alice:alice-password # or by IMAP
  swaks --server 127.0.0.1:$SUB_PORT --tls --auth PLAIN --auth-user alice \\
        --auth-password alice-password --from alice@mydomain.test \\
        --to someone@example.net                                         # submission: relayed
  cat demo/sink/*                                                        # what "left" (a loopback sink)
Ctrl-C stops the server.

MSG
# The "internet": a loopback SMTP sink that stores what postern relays.
mkdir -p "$D/sink"
python3 - "$SINK_PORT" "$D/sink" <<'PY' &
import socket, sys, os, threading, time
port, out = int(sys.argv[1]), sys.argv[2]
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port)); srv.listen(16)
def serve(c):
    f = c.makefile("rwb")
    def say(x): f.write(x + b"\r\n"); f.flush()
    say(b"220 sink.example ESMTP demo sink")
    data = None
    for line in f:
        if data is not None:
            if line == b".\r\n":
                name = os.path.join(out, "%d.eml" % time.time_ns())
                open(name, "wb").write(b"".join(data)); data = None
                say(b"250 2.0.0 stored in " + name.encode())
            else:
                data.append(line[1:] if line.startswith(b"..") else line)
            continue
        verb = line[:4].upper()
        if verb == b"DATA": data = []; say(b"354 go on")
        elif verb == b"QUIT": say(b"221 bye"); break
        elif verb == b"EHLO": say(b"250 sink.example")
        else: say(b"250 ok")
    c.close()
while True:
    c, _ = srv.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
SINK_PID=$!
trap 'kill $SINK_PID 2>/dev/null' EXIT INT TERM
./postern serve -c "$D/postern.conf"
