"""IMAP4rev2 (RFC 9051) with imaplib and raw sockets: login and TLS, a
Maildir filled over SMTP read back byte for byte, flags in file names,
EXPUNGE, APPEND/COPY/MOVE with UIDPLUS codes, folders, STATUS, SEARCH,
IDLE woken by a delivery, POP3 and IMAP on one INBOX, UIDs stable across
restarts and never reused, literals split across packets, malformed
commands, and IMAP-before-SMTP (a login grants relay like POP3's)."""
import base64
import hashlib
import hmac
import imaplib
import os
import re
import socket
import ssl
import time
import unittest

from harness import Server, free_port, run_postern, DOMAIN
from tlsutil import make_cert, client_context

PASSWORDS = {"alice": "alice-secret", "bob": "bob-secret"}


class SourceIMAP4(imaplib.IMAP4):
    """imaplib has no source_address: bind to a loopback alias so that
    one machine plays several client addresses."""

    def __init__(self, host, port, source="127.0.0.1", timeout=10):
        self._source = source
        super().__init__(host, port, timeout=timeout)

    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout,
                                        source_address=(self._source, 0))


def imap_server(ttl=900, tls=False, plaintext=None, extra=()):
    srv = Server()
    srv.imap_port = free_port()
    srv.pop_port = free_port()
    lines = ["listen_imap = 127.0.0.1:%d" % srv.imap_port,
             "listen_pop3 = 127.0.0.1:%d" % srv.pop_port,
             "pop_before_smtp_ttl = %d" % ttl]
    if tls:
        crt, key = make_cert(srv.dir)
        srv.imaps_port = free_port()
        lines += ["tls_cert = %s" % crt, "tls_key = %s" % key,
                  "listen_imaps = 127.0.0.1:%d" % srv.imaps_port,
                  "pop3_auth = any"]
    if plaintext is not None:
        lines.append("imap_plaintext_auth = %s" % plaintext)
    srv.extra = lines + list(extra)
    srv.write_config()
    srv.start()
    srv.wait_listening(port=srv.imap_port)
    return srv


def deliver(srv, rcpt, body, source="127.0.0.1", sender="sender@example.org"):
    s = srv.smtp(source=source)
    try:
        s.sendmail(sender, [rcpt], body)
    finally:
        s.quit()


def wait_until(cond, timeout=5.0, step=0.02):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(step)
    return cond()


class Raw:
    """A line-oriented IMAP client on a socket, for what imaplib hides."""

    def __init__(self, port, source="127.0.0.1", tls=False, timeout=5.0):
        s = socket.create_connection(("127.0.0.1", port), timeout,
                                     source_address=(source, 0))
        if tls:
            s = client_context().wrap_socket(s)
        self.s = s
        self.buf = b""
        self.n = 0

    def send(self, data):
        self.s.sendall(data)

    def line(self, timeout=5.0):
        deadline = time.time() + timeout
        while b"\r\n" not in self.buf:
            left = deadline - time.time()
            if left <= 0:
                raise TimeoutError("no line; have %r" % self.buf)
            self.s.settimeout(left)
            d = self.s.recv(65536)
            if not d:
                raise EOFError("closed; have %r" % self.buf)
            self.buf += d
        ln, self.buf = self.buf.split(b"\r\n", 1)
        return ln

    def until_tagged(self, tag, timeout=5.0):
        lines = []
        while True:
            ln = self.line(timeout)
            lines.append(ln)
            if ln.startswith(tag + b" "):
                return lines

    def cmd(self, text, timeout=5.0):
        self.n += 1
        tag = b"r%d" % self.n
        self.send(tag + b" " + text + b"\r\n")
        return self.until_tagged(tag, timeout)

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def maildir_files(srv, user, folder=None):
    base = srv.maildir(user)
    if folder:
        base = os.path.join(base, "." + folder)
    out = []
    for sub in ("new", "cur"):
        d = os.path.join(base, sub)
        if os.path.isdir(d):
            out += [os.path.join(d, f) for f in sorted(os.listdir(d))]
    return out


def scram_login(r, user, password):
    """AUTHENTICATE SCRAM-SHA-256 (RFC 7677) on a Raw client; returns the
    tagged line. The server-final message comes as a "+" continuation
    (IMAP has no success data), checked, and answered with an empty line."""
    b64 = lambda b: base64.b64encode(b).decode()
    cnonce = b64(os.urandom(18))
    cfb = "n=%s,r=%s" % (user, cnonce)
    r.send(b"s1 AUTHENTICATE SCRAM-SHA-256\r\n")
    ln = r.line()
    if not ln.startswith(b"+"):
        return ln
    r.send(base64.b64encode(("n,," + cfb).encode()) + b"\r\n")
    ln = r.line()
    if not ln.startswith(b"+"):
        return ln
    sf = base64.b64decode(ln[2:]).decode()
    attrs = dict(kv.split("=", 1) for kv in sf.split(","))
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(),
                                 base64.b64decode(attrs["s"]), int(attrs["i"]))
    ck = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    sk = hashlib.sha256(ck).digest()
    cfwp = "c=%s,r=%s" % (b64(b"n,,"), attrs["r"])
    auth = ("%s,%s,%s" % (cfb, sf, cfwp)).encode()
    sig = hmac.new(sk, auth, hashlib.sha256).digest()
    proof = bytes(a ^ b for a, b in zip(ck, sig))
    r.send(base64.b64encode(("%s,p=%s" % (cfwp, b64(proof))).encode()) + b"\r\n")
    ln = r.line(timeout=20)
    if ln.startswith(b"+"):
        server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
        want = "v=" + b64(hmac.new(server_key, auth, hashlib.sha256).digest())
        if base64.b64decode(ln[2:]).decode() != want:
            raise AssertionError("bad server signature %r" % ln)
        r.send(b"\r\n")
        ln = r.until_tagged(b"s1", timeout=20)[-1]
    return ln


def code(resp_text, name):
    m = re.search(rb"\[" + name + rb" ([^\]]*)\]", resp_text)
    return m.group(1).split() if m else None


class ImapBase(unittest.TestCase):
    ttl = 900
    tls = False
    plaintext = None

    def setUp(self):
        self.srv = imap_server(ttl=self.ttl, tls=self.tls,
                               plaintext=self.plaintext)

    def tearDown(self):
        if hasattr(self, "_outcome") and any(
                e for _, e in getattr(self._outcome, "errors", [])):
            self.srv.dump_log(self.id())
        self.srv.stop()
        self.srv.remove()

    def imap(self, source="127.0.0.1", user=None):
        m = SourceIMAP4("127.0.0.1", self.srv.imap_port, source)
        if user:
            m.login(user, PASSWORDS[user])
        return m

    def fill(self, user, n):
        bodies = []
        for i in range(n):
            b = (b"From: s@example.org\r\nTo: %s@%s\r\nSubject: msg %d\r\n"
                 b"\r\nbody %d\r\nline two\r\n" % (user.encode(),
                                                   DOMAIN.encode(), i, i))
            deliver(self.srv, "%s@%s" % (user, DOMAIN), b)
            bodies.append(b)
        self.srv.wait_mails(user, n)
        return bodies


class ImapLogin(ImapBase):
    def test_capability_and_login(self):
        m = self.imap()
        typ, caps = m.capability()
        self.assertEqual(typ, "OK")
        caps = caps[0].split()
        self.assertIn(b"IMAP4rev2", caps)
        self.assertNotIn(b"LOGINDISABLED", caps, "no TLS: plaintext allowed")
        self.assertEqual(m.login("alice", PASSWORDS["alice"])[0], "OK")
        m.logout()

    def test_wrong_password(self):
        m = self.imap(source="127.0.0.11")
        with self.assertRaises(imaplib.IMAP4.error) as cm:
            m.login("alice", "wrong")
        self.assertIn("AUTHENTICATIONFAILED", str(cm.exception))
        m.logout()

    def test_malformed_commands_get_bad_and_session_goes_on(self):
        r = Raw(self.srv.imap_port)
        self.assertTrue(r.line().startswith(b"* OK"))
        for junk in (b"a1 FROBNICATE", b"a2 LOGIN", b"a3 SELECT (((",
                     b"a4 FETCH x BODY[", b"a5 UID NOPE"):
            r.send(junk + b"\r\n")
            ln = r.until_tagged(junk.split()[0])[-1]
            self.assertRegex(ln, rb"^a\d BAD ", junk)
        r.send(b"*\r\n")
        self.assertRegex(r.line(), rb"^\* BAD ")
        self.assertRegex(r.cmd(b"NOOP")[-1], rb"^r\d+ OK")
        r.close()

    def test_literal_split_across_packets(self):
        r = Raw(self.srv.imap_port)
        r.line()
        user, pw = b"alice", PASSWORDS["alice"].encode()
        r.send(b"x1 LOGIN {%d}\r\n" % len(user))
        self.assertTrue(r.line().startswith(b"+"))
        r.send(user[:2])
        time.sleep(0.05)
        r.send(user[2:] + b" {%d}\r\n" % len(pw))
        self.assertTrue(r.line().startswith(b"+"))
        for i in range(len(pw)):
            r.send(pw[i:i + 1])
        r.send(b"\r\n")
        self.assertIn(b"x1 OK", r.until_tagged(b"x1")[-1])
        # LITERAL+ too
        r.send(b"x2 SELECT {5+}\r\nINBOX\r\n")
        self.assertIn(b"x2 OK", r.until_tagged(b"x2")[-1])
        r.close()


class ImapTls(ImapBase):
    tls = True

    def test_logindisabled_then_starttls(self):
        m = self.imap()
        caps = m.capability()[1][0].split()
        self.assertIn(b"STARTTLS", caps)
        self.assertIn(b"LOGINDISABLED", caps)
        with self.assertRaises(imaplib.IMAP4.error):
            m.login("alice", PASSWORDS["alice"])
        m.starttls(ssl_context=client_context())
        caps = m.capability()[1][0].split()
        self.assertNotIn(b"LOGINDISABLED", caps)
        self.assertNotIn(b"STARTTLS", caps)
        self.assertEqual(m.login("alice", PASSWORDS["alice"])[0], "OK")
        m.logout()

    def test_imaps(self):
        m = imaplib.IMAP4_SSL("127.0.0.1", self.srv.imaps_port,
                              ssl_context=client_context())
        self.assertNotIn(b"LOGINDISABLED", m.capability()[1][0].split())
        self.assertEqual(m.login("bob", PASSWORDS["bob"])[0], "OK")
        m.logout()

    def test_starttls_injection_discarded(self):
        r = Raw(self.srv.imap_port)
        r.line()
        r.send(b"t1 STARTTLS\r\nt2 LOGIN alice alice-secret\r\n")
        self.assertIn(b"t1 OK", r.until_tagged(b"t1")[-1])
        r.s = client_context().wrap_socket(r.s)
        r.buf = b""
        # The injected t2 must not have run: nothing is pending for it.
        self.assertIn(b" OK", r.cmd(b"NOOP")[-1])
        self.assertRaises(TimeoutError, r.line, 0.3)
        r.close()


class ImapMailbox(ImapBase):
    def test_select_fetch_byte_for_byte(self):
        bodies = self.fill("alice", 3)
        m = self.imap(user="alice")
        typ, data = m.select("INBOX")
        self.assertEqual(typ, "OK")
        self.assertEqual(int(data[0]), 3)
        self.assertIsNotNone(m.response("UIDVALIDITY")[1][0])
        self.assertIsNotNone(m.response("UIDNEXT")[1][0])
        files = maildir_files(self.srv, "alice")
        self.assertEqual(len(files), 3)
        ondisk = {open(f, "rb").read() for f in files}
        for i in range(1, 4):
            typ, d = m.fetch(str(i), "(BODY.PEEK[])")
            self.assertEqual(typ, "OK")
            self.assertIn(d[0][1], ondisk)
        typ, d = m.fetch("1:3", "(RFC822.SIZE FLAGS UID)")
        self.assertEqual(typ, "OK")
        m.logout()

    def test_store_flags_in_file_name_and_expunge(self):
        self.fill("alice", 2)
        m = self.imap(user="alice")
        m.select("INBOX")
        m.store("1", "+FLAGS", "(\\Seen \\Flagged)")
        self.assertTrue(wait_until(lambda: any(
            f.endswith(":2,FS") for f in maildir_files(self.srv, "alice"))))
        m.store("2", "+FLAGS", "(\\Deleted)")
        typ, d = m.expunge()
        self.assertEqual(typ, "OK")
        self.assertEqual(d, [b"2"])
        self.assertEqual(len(maildir_files(self.srv, "alice")), 1)
        m.logout()

    def test_append_copy_move_uidplus(self):
        self.fill("alice", 1)
        m = self.imap(user="alice")
        msg = b"From: a@b\r\nSubject: appended\r\n\r\nhello\r\n"
        typ, d = m.append("INBOX", "(\\Seen)", None, msg)
        self.assertEqual(typ, "OK")
        uv, uid = code(d[0], rb"APPENDUID")
        self.assertTrue(any(open(f, "rb").read() == msg
                            for f in maildir_files(self.srv, "alice")),
                        "the appended octets are the Maildir file's")
        m.create("Archive")
        m.select("INBOX")
        typ, d = m.uid("COPY", uid.decode(), "Archive")
        self.assertEqual(typ, "OK")
        # imaplib keeps a tagged reply's [CODE ...] among the responses.
        self.assertEqual(len(m.response("COPYUID")[1][0].split()), 3)
        self.assertEqual(len(maildir_files(self.srv, "alice", "Archive")), 1)
        typ, d = m.uid("MOVE", uid.decode(), "Archive")
        self.assertEqual(typ, "OK")
        self.assertIsNotNone(m.response("COPYUID")[1][0])
        self.assertEqual(len(maildir_files(self.srv, "alice", "Archive")), 2)
        self.assertEqual(len(maildir_files(self.srv, "alice")), 1)
        typ, d = m.copy("1", "Nowhere")
        self.assertEqual(typ, "NO")
        self.assertIn(b"TRYCREATE", d[0])
        m.logout()

    def test_folders_list_status_search(self):
        self.fill("alice", 2)
        m = self.imap(user="alice")
        typ, d = m.list('""', "*")
        self.assertEqual(typ, "OK")
        text = b"\n".join(d)
        for name, use in ((b"Sent", b"\\Sent"), (b"Drafts", b"\\Drafts"),
                          (b"Trash", b"\\Trash")):
            self.assertIn(name, text)
            self.assertIn(use, text)
        self.assertEqual(m.create("Work")[0], "OK")
        typ, d = m.create("Work")
        self.assertEqual(typ, "NO")
        self.assertIn(b"ALREADYEXISTS", d[0])
        self.assertEqual(m.rename("Work", "Play")[0], "OK")
        self.assertTrue(os.path.isdir(os.path.join(self.srv.maildir("alice"), ".Play")))
        typ, d = m.status("INBOX", "(MESSAGES UIDNEXT UIDVALIDITY UNSEEN)")
        self.assertEqual(typ, "OK")
        self.assertIn(b"MESSAGES 2", d[0])
        self.assertEqual(m.delete("Play")[0], "OK")
        typ, d = m.delete("Play")
        self.assertEqual(typ, "NO")
        m.select("INBOX")
        typ, d = m.search(None, "SUBJECT", '"msg 1"')
        self.assertEqual((typ, d), ("OK", [b"2"]))
        typ, d = m.search(None, "ALL")
        self.assertEqual(d, [b"1 2"])
        typ, d = m.uid("SEARCH", "UNSEEN")
        self.assertEqual(len(d[0].split()), 2)
        m.logout()

    def test_idle_woken_by_delivery(self):
        m = self.imap(user="alice")
        m.select("INBOX")
        r = Raw(self.srv.imap_port)
        r.line()
        r.cmd(b"LOGIN alice alice-secret")
        r.cmd(b"SELECT INBOX")
        r.send(b"i1 IDLE\r\n")
        self.assertTrue(r.line().startswith(b"+"))
        deliver(self.srv, "alice@" + DOMAIN, b"Subject: new\r\n\r\nx\r\n")
        # From the moment the message is in the Maildir, at most 1 s.
        self.assertTrue(wait_until(lambda: maildir_files(self.srv, "alice"),
                                   timeout=10.0, step=0.005))
        t0 = time.time()
        ln = r.line(timeout=5.0)
        self.assertRegex(ln, rb"^\* 1 EXISTS")
        self.assertLess(time.time() - t0, 1.0,
                        "IDLE must hear within 1 s of the delivery")
        r.send(b"DONE\r\n")
        self.assertIn(b"i1 OK", r.until_tagged(b"i1")[-1])
        r.close()
        m.logout()

    def test_idle_shared_watch_survives_one_session_leaving(self):
        rs = []
        for _ in range(3):
            r = Raw(self.srv.imap_port)
            r.line()
            r.cmd(b"LOGIN alice alice-secret")
            r.cmd(b"SELECT INBOX")
            r.send(b"i1 IDLE\r\n")
            self.assertTrue(r.line().startswith(b"+"))
            rs.append(r)
        deliver(self.srv, "alice@" + DOMAIN, b"Subject: one\r\n\r\nx\r\n")
        for r in rs:
            self.assertRegex(r.line(timeout=5.0), rb"^\* 1 EXISTS")
        rs[0].send(b"DONE\r\n")
        rs[0].until_tagged(b"i1")
        rs[0].cmd(b"LOGOUT")
        rs[0].close()
        deliver(self.srv, "alice@" + DOMAIN, b"Subject: two\r\n\r\nx\r\n")
        for r in rs[1:]:
            self.assertRegex(r.line(timeout=5.0), rb"^\* \d+ EXISTS")
            r.close()

    def test_pop3_and_imap_share_inbox(self):
        import poplib
        self.fill("alice", 2)
        m = self.imap(user="alice")
        m.select("INBOX")
        p = poplib.POP3("127.0.0.1", self.srv.pop_port)
        p.user("alice")
        p.pass_(PASSWORDS["alice"])
        p.dele(1)
        p.quit()
        self.assertEqual(len(maildir_files(self.srv, "alice")), 1)
        left = open(maildir_files(self.srv, "alice")[0], "rb").read()
        m.noop()
        self.assertEqual(len(m.untagged_responses.get("EXPUNGE", [])), 1,
                         "the POP3 deletion is seen as one EXPUNGE")
        typ, d = m.fetch("1", "(BODY.PEEK[])")
        self.assertEqual(d[0][1], left)
        m.logout()

    def test_uids_stable_across_restart_and_never_reused(self):
        self.fill("alice", 2)
        m = self.imap(user="alice")
        m.select("INBOX")
        uv1 = m.response("UIDVALIDITY")[1][0]
        uids1 = m.uid("SEARCH", "ALL")[1][0].split()
        m.store("2", "+FLAGS", "(\\Deleted)")
        m.expunge()
        m.logout()
        self.srv.stop()
        self.srv.start()
        self.srv.wait_listening(port=self.srv.imap_port)
        self.fill("alice", 1)
        m = self.imap(user="alice")
        m.select("INBOX")
        self.assertEqual(m.response("UIDVALIDITY")[1][0], uv1)
        uids2 = m.uid("SEARCH", "ALL")[1][0].split()
        self.assertEqual(uids2[0], uids1[0])
        self.assertGreater(int(uids2[1]), int(uids1[1]),
                           "an expunged UID is never reused")
        m.logout()

    def test_concurrent_sessions_see_expunge(self):
        self.fill("alice", 2)
        a = self.imap(user="alice")
        b = self.imap(user="alice")
        a.select("INBOX")
        b.select("INBOX")
        a.store("1", "+FLAGS", "(\\Deleted)")
        a.expunge()
        b.noop()
        self.assertEqual(b.untagged_responses.get("EXPUNGE"), [b"1"])
        typ, d = b.fetch("1", "(UID)")
        self.assertEqual(typ, "OK")
        a.logout()
        b.logout()


class ImapBeforeSmtp(ImapBase):
    ttl = 3

    def rcpt(self, source):
        s = self.srv.smtp(source=source)
        try:
            s.mail("roamer@example.org")
            return s.rcpt("friend@example.net")[0]
        finally:
            s.quit()

    def test_login_grants_relay_and_expires(self):
        self.assertEqual(self.rcpt("127.0.0.13"), 554)
        m = self.imap(source="127.0.0.13", user="alice")
        m.logout()
        self.assertEqual(wait_until(lambda: self.rcpt("127.0.0.13") == 250,
                                    timeout=2.0), True,
                         "an IMAP login must grant relay")
        self.assertEqual(self.rcpt("127.0.0.14"), 554)
        self.assertTrue(self.srv.wait_log(
            r"pop-before-smtp: relay granted to 127\.0\.0\.13 for user alice"))
        self.assertTrue(wait_until(lambda: self.rcpt("127.0.0.13") == 554,
                                   timeout=6.0), "the grant must expire")

    def test_scram_login_grants_relay(self):
        self.assertEqual(self.rcpt("127.0.0.16"), 554)
        r = Raw(self.srv.imap_port, source="127.0.0.16")
        r.line()
        self.assertRegex(scram_login(r, "bob", PASSWORDS["bob"]), rb"^s1 OK")
        self.assertRegex(r.cmd(b"SELECT INBOX")[-1], rb"^r1 OK")
        r.close()
        self.assertTrue(self.srv.wait_log(
            r'login ok: client=\[127\.0\.0\.16\] user="bob" mechanism=SCRAM-SHA-256'))
        self.assertTrue(wait_until(lambda: self.rcpt("127.0.0.16") == 250,
                                   timeout=2.0), "SCRAM login must grant relay")
        r = Raw(self.srv.imap_port, source="127.0.0.17")
        r.line()
        self.assertRegex(scram_login(r, "bob", "wrong"), rb"^s1 NO")
        r.close()
        self.assertEqual(self.rcpt("127.0.0.17"), 554)

    def test_failed_login_grants_nothing(self):
        m = self.imap(source="127.0.0.15")
        with self.assertRaises(imaplib.IMAP4.error):
            m.login("alice", "wrong")
        m.logout()
        self.assertEqual(self.rcpt("127.0.0.15"), 554)


class ImapLimits(unittest.TestCase):
    def test_per_client_limit_and_shutdown_bye(self):
        srv = imap_server(extra=["max_imap_sessions_per_client = 2"])
        try:
            a = Raw(srv.imap_port, source="127.0.0.21")
            b = Raw(srv.imap_port, source="127.0.0.21")
            self.assertTrue(a.line().startswith(b"* OK"))
            self.assertTrue(b.line().startswith(b"* OK"))
            c = Raw(srv.imap_port, source="127.0.0.21")
            self.assertRegex(c.line(), rb"^\* BYE \[UNAVAILABLE\]")
            d = Raw(srv.imap_port, source="127.0.0.22")
            self.assertTrue(d.line().startswith(b"* OK"), "another client")
            self.assertTrue(srv.wait_log(r"rejected: too many connections "
                                         r"\(per client: 2, limit 2\)"))
            srv.stop()
            self.assertRegex(a.line(), rb"^\* BYE ")
        finally:
            srv.stop()
            srv.remove()


class ImapCheck(unittest.TestCase):
    def test_postern_check_lists_and_validates_imap_keys(self):
        srv = Server(extra=["listen_imap = 127.0.0.1:%d" % free_port(),
                            "max_imap_sessions = 7"])
        try:
            r = run_postern(["check", "-c", srv.conf])
            self.assertEqual(r.returncode, 0, r.stderr)
            for key in ("listen_imap = 127.0.0.1:", "max_imap_sessions = 7",
                        "max_imap_sessions_per_client = 50",
                        "imap_plaintext_auth = yes"):
                self.assertIn(key, r.stdout)
            srv.extra.append("listen_imaps = 127.0.0.1:%d" % free_port())
            srv.write_config()
            r = run_postern(["check", "-c", srv.conf])
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("listen_imaps needs tls_cert", r.stdout + r.stderr)
        finally:
            srv.remove()


class ImapPrivsep(ImapBase):
    def test_imapd_unprivileged_and_confined(self):
        m = self.srv.wait_log(r"started smtpd.* imapd\[(\d+)\]", 5.0)
        self.assertIsNotNone(m)
        pid = int(m.group(1))
        with open("/proc/%d/status" % pid) as f:
            st = dict(ln.split(":", 1) for ln in f.read().splitlines() if ":" in ln)
        if os.geteuid() == 0:
            self.assertNotIn("0", st["Uid"].split(), "imapd must not run as root")
        self.assertEqual(int(st["CapEff"].strip(), 16), 0)
        # It keeps no other listener: only IMAP sockets are its own.
        c = self.imap(user="alice")
        c.logout()


@unittest.skipIf("ASAN_OPTIONS" in os.environ,
                 "AddressSanitizer keeps freed memory in quarantine: "
                 "RSS says nothing about the server's own use")
class ImapIdleMemory(ImapBase):
    """Idle sessions stay cheap: N (IMAP_IDLE_SESSIONS, 300) IDLE sessions must
    cost imapd less than 64 KiB each (VmRSS growth)."""
    N = int(os.environ.get("IMAP_IDLE_SESSIONS", "300"))

    def imapd_pid(self):
        m = self.srv.wait_log(r"started smtpd.* imapd\[(\d+)\]", 5.0)
        return int(m.group(1))

    def rss_kib(self, pid):
        with open("/proc/%d/status" % pid) as f:
            for ln in f:
                if ln.startswith("VmRSS:"):
                    return int(ln.split()[1])
        return 0

    def test_idle_sessions_are_cheap(self):
        pid = self.imapd_pid()
        conns = []
        r0 = None
        try:
            for i in range(self.N):
                r = Raw(self.srv.imap_port, source="127.0.%d.%d"
                        % (1 + i // 200, 2 + i % 200))
                r.line()
                r.cmd(b"LOGIN alice alice-secret", timeout=20)
                r.cmd(b"SELECT INBOX")
                r.send(b"i IDLE\r\n")
                r.line()
                conns.append(r)
                if i == 9:
                    r0 = self.rss_kib(pid)
            r1 = self.rss_kib(pid)
            per = (r1 - r0) * 1024 / (self.N - 10)
            print("imapd VmRSS per idle session: %.0f bytes" % per)
            self.assertLess(per, 64 * 1024)
        finally:
            for r in conns:
                r.close()


if __name__ == "__main__":
    unittest.main()
