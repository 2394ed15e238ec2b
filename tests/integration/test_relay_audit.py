"""Relay audit (issue 6, item 6): a hostile stranger tries every address
trick known to relay testers; a loopback SMTP sink proves nothing leaves.

The server runs the harness's default-ish config: local_domains
mydomain.test, local_networks 127.0.0.1/32 and ::1/128, no relay_rules, and
`route * = 127.0.0.1:SINK`, so every remote delivery, bounce or relay would
reach the sink this test runs.  Strangers connect from 127.0.0.X (X > 1).

Each case records every reply.  A case marked "deny" must not get a 2xx to
its RCPT; a case marked "any" may be accepted (it names a local mailbox in
a roundabout way) but must not queue a remote recipient.  After the table:
`postern queue flush`, a wait, and then the sink must have seen zero
connections, no queue file may hold a remote ("R") recipient, deferred/ is
empty, and the log shows no outbound attempt.  Last, a positive control:
127.0.0.1 (local_networks) relays one message and the sink must receive it,
which proves that the zero above was not a broken sink.

The table is printed; POSTERN_LOG=1 prints the server log too.
"""
import os
import re
import socket
import socketserver
import sys
import threading
import time

from harness import PosternTestCase, RawClient, run_postern

SENDER = b"attacker@evil.example"


class Sink:
    """A loopback SMTP server that accepts everything and records it."""

    def __init__(self, port):
        self.connections = 0
        self.messages = []
        self.transcript = []
        lock = threading.Lock()
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            timeout = 10

            def handle(self):
                with lock:
                    sink.connections += 1
                w = self.wfile.write
                w(b"220 sink.test ESMTP\r\n")
                data = None
                while True:
                    line = self.rfile.readline(10000)
                    if not line:
                        return
                    with lock:
                        sink.transcript.append(line)
                    if data is not None:
                        if line == b".\r\n":
                            with lock:
                                sink.messages.append(b"".join(data))
                            data = None
                            w(b"250 sink ok\r\n")
                        else:
                            data.append(line)
                        continue
                    verb = line[:4].upper()
                    if verb == b"EHLO":
                        w(b"250-sink.test\r\n250 PIPELINING\r\n")
                    elif verb == b"DATA":
                        data = []
                        w(b"354 go\r\n")
                    elif verb == b"QUIT":
                        w(b"221 bye\r\n")
                        return
                    else:
                        w(b"250 ok\r\n")

        class TCP(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self.server = TCP(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


L64 = "v" * 64
L65 = "v" * 65
D256 = ".".join(["d" * 63] * 4)          # 255 octets
D256 = D256 + "x"                          # 256
P1000 = "<" + "v" * (1000 - 14) + "@example.net>"      # 1000 octets

# (name, RCPT argument (bytes, sent as is after "RCPT TO:"), expect)
#   expect "deny": RCPT must not be 2xx;  "any": may be accepted (local)
ADDRESS_CASES = [
    # percent hack
    ("percent", b"<victim%example.net@mydomain.test>", "deny"),
    ("percent via own literal", b"<victim%example.net@[127.0.0.1]>", "deny"),
    ("percent, no domain", b"<victim%example.net>", "deny"),
    ("percent twice", b"<victim%example.net%mydomain.test@mydomain.test>", "deny"),
    ("percent to local user", b"<alice%example.net@mydomain.test>", "deny"),
    ("percent quoted", b'<"victim%example.net"@mydomain.test>', "deny"),
    # bang paths
    ("bang", b"<example.net!victim@mydomain.test>", "deny"),
    ("bang, no domain", b"<example.net!victim>", "deny"),
    ("bang twice", b"<mydomain.test!example.net!victim@mydomain.test>", "deny"),
    ("bang quoted", b'<"example.net!victim"@mydomain.test>', "deny"),
    ("bang + percent", b"<example.net!victim%evil.example@mydomain.test>", "deny"),
    # source routes
    ("source route", b"<@mydomain.test:victim@example.net>", "deny"),
    ("source route x2", b"<@mydomain.test,@mx.mydomain.test:victim@example.net>", "deny"),
    ("source route via remote", b"<@example.net:alice@mydomain.test>", "deny"),
    ("source route own literal", b"<@[127.0.0.1]:victim@example.net>", "deny"),
    ("source route no comma", b"<@mydomain.test@example.net:victim@example.net>", "deny"),
    ("source route empty hop", b"<@:victim@example.net>", "deny"),
    # quoted local parts
    ("quoted @", b'<"victim@example.net"@mydomain.test>', "deny"),
    ("quoted whole, no domain", b'<"victim@example.net">', "deny"),
    ("quoted remote", b'<"victim"@example.net>', "deny"),
    ("quoted local @ remote", b'<"alice@mydomain.test"@example.net>', "deny"),
    ("quoted escaped @", b'<"victim\\@example.net"@mydomain.test>', "deny"),
    ("quoted escaped quote", b'<"victim\\"@example.net"@mydomain.test>', "deny"),
    ("quoted space", b'<"victim example.net"@mydomain.test>', "deny"),
    ("quoted alice", b'<"alice"@mydomain.test>', "any"),
    ("quoted unterminated", b'<"victim@example.net>', "deny"),
    # IP literals
    ("literal own", b"<victim@[127.0.0.1]>", "deny"),
    ("literal own, local user", b"<alice@[127.0.0.1]>", "any"),
    ("literal other loopback", b"<victim@[127.0.0.2]>", "deny"),
    ("literal private", b"<victim@[10.0.0.1]>", "deny"),
    ("literal public", b"<victim@[1.2.3.4]>", "deny"),
    ("literal IPv6 ::1", b"<victim@[IPv6:::1]>", "deny"),
    ("literal IPv6 mapped", b"<victim@[IPv6:::ffff:127.0.0.1]>", "deny"),
    ("literal IPv6 long ::1", b"<victim@[IPv6:0:0:0:0:0:0:0:1]>", "deny"),
    ("literal hex", b"<victim@[0x7f.1]>", "deny"),
    ("literal decimal", b"<victim@[2130706433]>", "deny"),
    ("literal short", b"<victim@[127.1]>", "deny"),
    ("literal general", b"<victim@[tcp:1.2.3.4]>", "deny"),
    ("literal + domain", b"<victim@[127.0.0.1].example.net>", "deny"),
    ("bare IP domain", b"<victim@127.0.0.1>", "deny"),
    ("bare IP domain, remote", b"<victim@1.2.3.4>", "deny"),
    ("literal unterminated", b"<victim@[1.2.3.4>", "deny"),
    # trailing dots, case, look-alike domains
    ("trailing dot", b"<victim@example.net.>", "deny"),
    ("two trailing dots", b"<victim@example.net..>", "deny"),
    ("leading dot", b"<victim@.example.net>", "deny"),
    ("upper case", b"<VICTIM@EXAMPLE.NET>", "deny"),
    ("ours as prefix", b"<victim@mydomain.test.example.net>", "deny"),
    ("sub-domain of ours", b"<victim@evil.mydomain.test>", "deny"),
    ("ours as suffix w/o dot", b"<victim@evilmydomain.test>", "deny"),
    ("ours, upper, dot", b"<ALICE@MYDOMAIN.TEST.>", "any"),
    ("ours, two dots", b"<alice@mydomain.test..>", "deny"),
    ("unknown local user", b"<victim@mydomain.test>", "deny"),
    # encoded forms
    ("RFC 2047 q", b"<=?utf-8?q?victim=40example.net?=@mydomain.test>", "deny"),
    ("RFC 2047 b", b"<=?utf-8?b?dmljdGltQGV4YW1wbGUubmV0?=@mydomain.test>", "deny"),
    ("RFC 2047 domain", b"<victim@=?utf-8?q?example.net?=>", "deny"),
    ("url %40", b"<victim%40example.net@mydomain.test>", "deny"),
    ("url %2540", b"<victim%2540example.net@mydomain.test>", "deny"),
    ("url domain %2e", b"<victim@example%2enet>", "deny"),
    ("url %00 in domain", b"<victim@example.net%00.mydomain.test>", "deny"),
    ("html entity @", b"<victim&#64;example.net@mydomain.test>", "deny"),
    ("backslash @", b"<victim\\@example.net@mydomain.test>", "deny"),
    ("backslash @, no domain", b"<victim\\@example.net>", "deny"),
    ("xtext +40", b"<victim+40example.net@mydomain.test>", "deny"),
    ("8-bit domain", "<victim@ex\u00e4mple.net>".encode("utf-8"), "deny"),
    ("8-bit local part", "<v\u00efctim@mydomain.test>".encode("utf-8"), "deny"),
    ("punycode remote", b"<victim@xn--exmple-cua.net>", "deny"),
    ("fullwidth @", "<victim\uff20example.net@mydomain.test>".encode("utf-8"), "deny"),
    # NUL and whitespace inside addresses
    ("NUL before @ours", b"<victim@example.net\x00@mydomain.test>", "deny"),
    ("NUL after ours", b"<alice@mydomain.test\x00victim@example.net>", "deny"),
    ("NUL after >", b"<alice@mydomain.test>\x00<victim@example.net>", "deny"),
    ("space before @", b"<victim @example.net>", "deny"),
    ("space after @", b"<victim@ example.net>", "deny"),
    ("space before >", b"<victim@example.net >", "deny"),
    ("space after <", b"< victim@example.net>", "deny"),
    ("tab inside", b"<victim@example.net\t>", "deny"),
    ("two paths", b"<alice@mydomain.test> <victim@example.net>", "deny"),
    ("two paths, comma", b"<alice@mydomain.test>,<victim@example.net>", "deny"),
    ("bare CR inside", b"<victim@example.net\rRCPT TO:<v2@example.net>>", "deny"),
    ("bare LF inside", b"<alice@mydomain.test\nRCPT TO:<victim@example.net>>", "deny"),
    # overlong
    ("local 64, remote", ("<%s@example.net>" % L64).encode(), "deny"),
    ("local 65, ours", ("<%s@mydomain.test>" % L65).encode(), "deny"),
    ("local 65, remote", ("<%s@example.net>" % L65).encode(), "deny"),
    ("domain 256", ("<victim@%s>" % D256).encode(), "deny"),
    ("domain 256 + ours", ("<victim%%%s@mydomain.test>" % D256).encode(), "deny"),
    ("path 1000", P1000.encode(), "deny"),
    ("label 64", ("<victim@%s.example.net>" % ("l" * 64)).encode(), "deny"),
    # unbalanced <>, missing brackets, multiple @, empty local part
    ("no >", b"<victim@example.net", "deny"),
    ("no <", b"victim@example.net>", "deny"),
    ("no brackets", b"victim@example.net", "deny"),
    ("double <<>>", b"<<victim@example.net>>", "deny"),
    ("extra >", b"<victim@example.net>>", "deny"),
    ("extra <", b"<<victim@example.net>", "deny"),
    ("null path", b"<>", "deny"),
    ("two @, ours last", b"<victim@example.net@mydomain.test>", "deny"),
    ("two @, ours first", b"<alice@mydomain.test@example.net>", "deny"),
    ("@@", b"<victim@@example.net>", "deny"),
    ("leading @", b"<@victim@example.net>", "deny"),
    ("empty local, remote", b"<@example.net>", "deny"),
    ("empty local, ours", b"<@mydomain.test>", "deny"),
    ("empty quoted local, remote", b'<""@example.net>', "deny"),
    ("only @", b"<@>", "deny"),
    # postmaster tricks
    ("postmaster remote", b"<postmaster@example.net>", "deny"),
    ("postmaster literal", b"<postmaster@[1.2.3.4]>", "deny"),
    ("postmaster own literal", b"<postmaster@[127.0.0.1]>", "any"),
    ("postmaster bare", b"<postmaster>", "any"),
    ("POSTMASTER bare", b"<POSTMASTER>", "any"),
    ("postmaster ours", b"<postmaster@mydomain.test>", "any"),
    ("postmaster percent", b"<postmaster%example.net@mydomain.test>", "deny"),
    ("postmaster source route", b"<@example.net:postmaster>", "deny"),
    ("postmaster bang", b"<example.net!postmaster>", "deny"),
    ("postmaster quoted @", b'<"postmaster@example.net">', "deny"),
]

# (name, MAIL FROM argument, RCPT argument, source, EHLO text)
SENDER_CASES = [
    ("spoof local sender", b"<alice@mydomain.test>", b"<victim@example.net>", "127.0.0.2", b"client.test"),
    ("spoof postmaster sender", b"<postmaster@mydomain.test>", b"<victim@example.net>", "127.0.0.2", b"client.test"),
    ("null sender", b"<>", b"<victim@example.net>", "127.0.0.2", b"client.test"),
    ("sender own literal", b"<alice@[127.0.0.1]>", b"<victim@example.net>", "127.0.0.2", b"client.test"),
    ("sender source route", b"<@mydomain.test:alice@mydomain.test>", b"<victim@example.net>", "127.0.0.2", b"client.test"),
    ("sender AUTH= param", b"<alice@mydomain.test> AUTH=alice@mydomain.test", b"<victim@example.net>", "127.0.0.2", b"client.test"),
    ("HELO our hostname", b"<alice@mydomain.test>", b"<victim@example.net>", "127.0.0.3", b"mx.mydomain.test"),
    ("HELO our literal", b"<x@evil.example>", b"<victim@example.net>", "127.0.0.3", b"[127.0.0.1]"),
    ("HELO localhost", b"<x@evil.example>", b"<victim@example.net>", "127.0.0.3", b"localhost"),
    ("other loopback 127.0.0.200", b"<x@evil.example>", b"<victim@example.net>", "127.0.0.200", b"client.test"),
    ("other loopback 127.1.2.3", b"<x@evil.example>", b"<victim@example.net>", "127.1.2.3", b"client.test"),
    ("RCPT NOTIFY param", b"<x@evil.example>", b"<victim@example.net> NOTIFY=NEVER", "127.0.0.2", b"client.test"),
    ("RCPT ORCPT param", b"<x@evil.example>", b"<alice@mydomain.test> ORCPT=rfc822;victim@example.net", "127.0.0.2", b"client.test"),
    ("RCPT space before <", b"<x@evil.example>", b" <victim@example.net>", "127.0.0.2", b"client.test"),
]

BODY = b"Subject: relay audit\r\nFrom: attacker@evil.example\r\n\r\nrelay me\r\n"


def pipelined(sep):
    """One write: a transaction to alice whose body hides a second
    transaction to a remote address behind a non-standard end-of-data."""
    return (b"MAIL FROM:<" + SENDER + b">\r\nRCPT TO:<alice@mydomain.test>\r\nDATA\r\n"
            b"Subject: carrier\r\n\r\ncarrier body\r\n" + sep +
            b"MAIL FROM:<" + SENDER + b">\r\nRCPT TO:<victim@example.net>\r\nDATA\r\n"
            b"Subject: smuggled\r\n\r\nsmuggled body\r\n.\r\n"
            b"QUIT\r\n")


# (name, bytes sent at once after EHLO, seconds to collect replies)
RAW_CASES = [
    ("smuggle \\n.\\n", pipelined(b"\n.\n"), 2.0),
    ("smuggle \\r\\n.\\n", pipelined(b".\n"), 2.0),
    ("smuggle \\n.\\r\\n", pipelined(b"\n.\r\n"), 2.0),
    ("smuggle \\r.\\r\\n", pipelined(b"\r.\r\n"), 2.0),
    ("smuggle \\r\\n.\\r", pipelined(b".\r"), 2.0),
    ("smuggle \\r\\n\\x00.\\r\\n", pipelined(b"\x00.\r\n"), 2.0),
    ("pipelined 2nd txn remote",
     b"MAIL FROM:<" + SENDER + b">\r\nRCPT TO:<alice@mydomain.test>\r\nDATA\r\n" + BODY
     + b".\r\nMAIL FROM:<" + SENDER + b">\r\nRCPT TO:<victim@example.net>\r\nDATA\r\n"
     + b"Subject: second\r\n\r\nRCPT TO:<victim2@example.net>\r\n.\r\nQUIT\r\n", 2.0),
    ("RCPT after 554, then local",
     b"MAIL FROM:<" + SENDER + b">\r\nRCPT TO:<victim@example.net>\r\n"
     b"RCPT TO:<victim2@example.net>\r\nRCPT TO:<alice@mydomain.test>\r\n"
     b"RCPT TO:<victim3@example.net>\r\nDATA\r\n" + BODY + b".\r\nQUIT\r\n", 2.0),
    ("DATA after 554 only",
     b"MAIL FROM:<" + SENDER + b">\r\nRCPT TO:<victim@example.net>\r\nDATA\r\n"
     b"MAIL FROM:<" + SENDER + b">\r\nRCPT TO:<victim@example.net>\r\nDATA\r\n"
     + BODY + b".\r\nQUIT\r\n", 2.0),
    ("RSET between",
     b"MAIL FROM:<" + SENDER + b">\r\nRCPT TO:<alice@mydomain.test>\r\nRSET\r\n"
     b"RCPT TO:<victim@example.net>\r\nDATA\r\n" + BODY + b".\r\nQUIT\r\n", 2.0),
    ("second MAIL",
     b"MAIL FROM:<" + SENDER + b">\r\nMAIL FROM:<alice@mydomain.test>\r\n"
     b"RCPT TO:<victim@example.net>\r\nQUIT\r\n", 2.0),
    ("RCPT without MAIL", b"RCPT TO:<victim@example.net>\r\nDATA\r\n" + BODY + b".\r\nQUIT\r\n", 2.0),
    ("BDAT", b"MAIL FROM:<" + SENDER + b">\r\nRCPT TO:<victim@example.net>\r\n"
     b"BDAT 20 LAST\r\nSubject: x\r\n\r\nbdat\r\nQUIT\r\n", 2.0),
    ("XCLIENT", b"XCLIENT ADDR=127.0.0.1\r\nMAIL FROM:<" + SENDER + b">\r\n"
     b"RCPT TO:<victim@example.net>\r\nQUIT\r\n", 2.0),
    ("XFORWARD", b"XFORWARD ADDR=127.0.0.1\r\nMAIL FROM:<" + SENDER + b">\r\n"
     b"RCPT TO:<victim@example.net>\r\nQUIT\r\n", 2.0),
    ("STARTTLS then plaintext", b"STARTTLS\r\nMAIL FROM:<" + SENDER + b">\r\n"
     b"RCPT TO:<victim@example.net>\r\nQUIT\r\n", 2.0),
    ("AUTH without TLS", b"AUTH PLAIN AGFsaWNlAGFsaWNlLXNlY3JldA==\r\nMAIL FROM:<" + SENDER
     + b">\r\nRCPT TO:<victim@example.net>\r\nQUIT\r\n", 2.0),
    ("lower-case verbs", b"mail from:<" + SENDER + b">\r\nrcpt to:<victim@example.net>\r\nQUIT\r\n", 2.0),
    ("RCPT TO without colon", b"MAIL FROM:<" + SENDER + b">\r\nRCPT TO <victim@example.net>\r\n"
     b"RCPT TO:victim@example.net\r\nQUIT\r\n", 2.0),
    ("513-byte RCPT", b"MAIL FROM:<" + SENDER + b">\r\nRCPT TO:<alice@mydomain.test>"
     + b" " * 480 + b"<victim@example.net>\r\nQUIT\r\n", 2.0),
]


def smuggle_steps(sep):
    """The same smuggling attempt, sent the way a well-behaved client
    would: each command waits for its reply, so the hidden transaction
    reaches the DATA byte machine instead of the pipelining guard."""
    return [(b"MAIL FROM:<" + SENDER + b">\r\n", 1),
            (b"RCPT TO:<alice@mydomain.test>\r\n", 1),
            (b"DATA\r\n", 1),
            (b"Subject: carrier\r\n\r\ncarrier body\r\n" + sep
             + b"MAIL FROM:<" + SENDER + b">\r\nRCPT TO:<victim@example.net>\r\nDATA\r\n"
             b"Subject: smuggled\r\n\r\nsmuggled body\r\n.\r\n", 1),
            (b"QUIT\r\n", 1)]


# (name, [(bytes, replies to wait for), ...]): one command at a time
STEP_CASES = [
    ("DATA smuggle \\n.\\n", smuggle_steps(b"\n.\n")),
    ("DATA smuggle \\r\\n.\\n", smuggle_steps(b".\n")),
    ("DATA smuggle \\n.\\r\\n", smuggle_steps(b"\n.\r\n")),
    ("DATA smuggle \\r.\\r\\n", smuggle_steps(b"\r.\r\n")),
    ("DATA smuggle \\r\\n.\\r", smuggle_steps(b".\r")),
    ("DATA smuggle \\x00.", smuggle_steps(b"\x00.\r\n")),
    ("DATA smuggle \\r\\n \\r\\n", smuggle_steps(b" .\r\n")),
    ("RCPT after 554, stepwise",
     [(b"MAIL FROM:<" + SENDER + b">\r\n", 1), (b"RCPT TO:<victim@example.net>\r\n", 1),
      (b"RCPT TO:<victim%example.net@mydomain.test>\r\n", 1),
      (b"RCPT TO:<alice@mydomain.test>\r\n", 1), (b"RCPT TO:<victim2@example.net>\r\n", 1),
      (b"DATA\r\n", 1), (BODY + b".\r\n", 1), (b"QUIT\r\n", 1)]),
    ("DATA after 554, stepwise",
     [(b"MAIL FROM:<" + SENDER + b">\r\n", 1), (b"RCPT TO:<victim@example.net>\r\n", 1),
      (b"DATA\r\n", 1), (b"RCPT TO:<victim@example.net>\r\n", 1), (b"QUIT\r\n", 1)]),
]


def short(text, n=58):
    text = text.replace("\n", " | ")
    return text if len(text) <= n else text[:n - 3] + "..."


class RelayAudit(PosternTestCase):

    def conversation(self, srv, source, ehlo, mail_arg, rcpt_arg):
        """Greeting, EHLO, MAIL, RCPT and (if accepted) DATA; returns a
        dict of the replies."""
        out = {"rcpt": None, "data": None, "qid": None}
        c = RawClient(srv.host, srv.port, source=source, timeout=5)
        try:
            out["greet"] = c.reply()
            out["ehlo"] = c.cmd(b"EHLO " + ehlo)
            out["mail"] = c.cmd(b"MAIL FROM:" + mail_arg)
            if out["mail"][0] != 250:
                # try the RCPT anyway: it must not be accepted either
                pass
            out["rcpt"] = c.cmd(b"RCPT TO:" + rcpt_arg)
            if 200 <= out["rcpt"][0] < 300:
                code, text = c.cmd(b"DATA")
                if code == 354:
                    c.send(BODY + b".\r\n")
                    out["data"] = c.reply()
                    m = re.search(r"queued as ([0-9A-F]{19})", out["data"][1])
                    out["qid"] = m.group(1) if m else None
                else:
                    out["data"] = (code, text)
            try:
                c.cmd(b"QUIT", timeout=2)
            except (OSError, TimeoutError, ConnectionError):
                pass
        except (OSError, TimeoutError, ConnectionError) as e:
            out["error"] = str(e)[:80]
        finally:
            c.close()
        return out

    def test_relay_audit(self):
        srv = self.server(start=False)
        sink = Sink(srv.sink_port)
        self.addCleanup(sink.close)
        srv.start()
        rows, bad = [], []
        n = 0
        for name, rcpt, expect in ADDRESS_CASES:
            n += 1
            src = "127.0.0.%d" % (2 + n % 200)
            r = self.conversation(srv, src, b"client.test", b"<" + SENDER + b">", rcpt)
            rows.append((name, rcpt, src, r, expect))
        for name, mail, rcpt, src, ehlo in SENDER_CASES:
            r = self.conversation(srv, src, ehlo, mail, rcpt)
            expect = "any" if rcpt.startswith(b"<alice@mydomain.test>") else "deny"
            rows.append((name, b"FROM:" + mail + b" TO:" + rcpt, src, r, expect))
        raw_rows = []
        for name, payload, secs in RAW_CASES:
            c = RawClient(srv.host, srv.port, source="127.0.0.77", timeout=5)
            try:
                greet = c.reply()
                c.cmd(b"EHLO client.test")
                try:
                    c.send(payload)
                except OSError:
                    pass
                replies = c.replies_for(secs)
            finally:
                c.close()
            raw_rows.append((name, greet, replies))
        for name, steps in STEP_CASES:
            c = RawClient(srv.host, srv.port, source="127.0.0.78", timeout=5)
            replies = []
            try:
                c.reply()
                c.cmd(b"EHLO client.test")
                for chunk, n in steps:
                    try:
                        c.send(chunk)
                        for _ in range(n):
                            replies.append(c.reply())
                    except (OSError, TimeoutError, ConnectionError) as e:
                        replies.append((0, "(%s)" % str(e)[:40]))
                        break
            finally:
                c.close()
            raw_rows.append((name, None, replies))

        # --- the table ----------------------------------------------------
        lines = ["", "relay audit: %d address cases, %d sender/HELO cases, %d pipelined cases"
                 % (len(ADDRESS_CASES), len(SENDER_CASES), len(RAW_CASES) + len(STEP_CASES)),
                 "%-26s %-11s %-4s %-4s %-60s %s" % ("case", "client", "MAIL", "RCPT",
                                                    "RCPT reply", "DATA")]
        for name, arg, src, r, expect in rows:
            mail = r.get("mail", (0, ""))[0]
            rc, rt = r["rcpt"] or (0, r.get("error", "no reply"))
            data = r["data"][0] if r["data"] else "-"
            lines.append("%-26s %-11s %-4s %-4s %-60s %s" % (name[:26], src, mail, rc,
                                                            short(rt), data))
            if expect == "deny" and 200 <= rc < 300:
                bad.append("%s: RCPT TO:%r accepted from %s: %d %s" % (name, arg, src, rc, rt))
            if "error" in r and r["rcpt"] is None:
                bad.append("%s: no RCPT reply (%s)" % (name, r["error"]))
        for name, greet, replies in raw_rows:
            codes = " ".join(str(c) for c, _ in replies)
            lines.append("%-26s %-11s %s" % (name[:26], "127.0.0.77" if greet else "127.0.0.78",
                                             codes))
            queued = [t for c, t in replies if c == 250 and "queued as" in t]
            if "smuggle" in name and len(queued) > 1:
                bad.append("%s: %d messages queued from one DATA: %r" % (name, len(queued), replies))
        print("\n".join(lines))
        sys.stdout.flush()

        # --- prove that nothing leaves ------------------------------------
        r = run_postern(["queue", "-c", srv.conf, "flush"])
        time.sleep(4.0)
        remote = []
        for qid, data in srv.queue_files().items():
            env = data.split(b"\n\n", 1)[0]
            if re.search(rb"^rcpt . R ", env, re.M):
                remote.append((qid, env))
        deferred = [n for n in os.listdir(os.path.join(srv.spool, "deferred"))
                    if not n.startswith(".")]
        outbound = [l for l in srv.log().splitlines()
                    if re.search(r"relay=|status=(sent|deferred|bounced)", l)
                    and "relay=local" not in l]
        delivered = {u: len(srv.mails(u)) for u in ("alice", "bob")}
        smuggled = [n for n, d in srv.mails("alice").items() if b"Subject: smuggled" in d
                    and not d.split(b"\r\n\r\n", 1)[0].endswith(b"Subject: carrier")]
        self.assertEqual(smuggled, [], "a smuggled message became a message of its own")
        print("sink: connections=%d messages=%d; queue files with a remote recipient: %d; "
              "deferred: %d; Maildir: %r" % (sink.connections, len(sink.messages),
                                             len(remote), len(deferred), delivered))
        sys.stdout.flush()
        self.assertEqual(bad, [], "relay audit failures:\n  " + "\n  ".join(bad))
        self.assertEqual(remote, [], "queue files with a remote recipient")
        self.assertEqual(deferred, [], "deferred/ not empty: something was tried outbound")
        self.assertEqual(outbound, [], "outbound delivery attempts in the log")
        self.assertEqual((sink.connections, sink.messages), (0, []),
                         "the sink was contacted: something was relayed:\n%r"
                         % b"".join(sink.transcript)[:2000])
        self.assertEqual(delivered["bob"], 0, "bob got mail though no case names him")

        # --- positive control: the sink does receive what may be relayed ----
        c = srv.smtp("127.0.0.1")
        try:
            c.sendmail("alice@mydomain.test", ["control@example.net"],
                       b"Subject: control\r\n\r\npositive control\r\n")
        finally:
            c.quit()
        deadline = time.time() + 15
        while time.time() < deadline and not sink.messages:
            time.sleep(0.1)
        self.assertEqual(len(sink.messages), 1,
                         "positive control: a relay from local_networks never reached "
                         "the sink, so the zero above proves nothing")
        self.assertIn(b"positive control", sink.messages[0])
