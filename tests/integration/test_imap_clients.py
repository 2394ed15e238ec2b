"""IMAP with real clients from Debian packages: mbsync (isync) syncing
both ways over imaps and over STARTTLS, offlineimap3 reading and moving
mail between folders, neomutt (keys pushed, under script(1)) reading and
saving to Trash, fetchmail --protocol IMAP into an MDA, and curl imap://
and imaps:// (LIST, SEARCH, FETCH by UID and section, APPEND, STARTTLS).
Mail is delivered over SMTP and every message a client gets or puts is
compared byte for byte with the server's Maildir file; only what a client
documents doing to its own copy is undone first: the LF line ends of
isync's, offlineimap's and neomutt's local copies, isync's X-TUID header,
fetchmail's own Received: header.

Each client runs with HOME set to a fresh directory and an explicit
configuration file there, so no user configuration is read; every
connection is on loopback. A client that is not installed skips its test
(tools/deps.sh installs them: isync offlineimap3 neomutt fetchmail
curl)."""
import imaplib
import os
import re
import shutil
import socket
import subprocess
import time
import unittest

from harness import PosternTestCase, free_port, DOMAIN
from tlsutil import make_cert, client_context

PASSWORDS = {"alice": "alice-secret", "bob": "bob-secret"}
TLS_NAME = "mx." + DOMAIN        # the certificate's CN (tlsutil.make_cert)
CLIENT_TIMEOUT = 60              # seconds a client run may take (slow CI)

BODIES = [
    b"From: Sender <sender@example.org>\r\nTo: alice@" + DOMAIN.encode() +
    b"\r\nSubject: one\r\nMessage-ID: <one@example.org>\r\n\r\nfirst message\r\n",
    b"From: sender@example.org\r\nSubject: dots\r\nMessage-ID: <dots@example.org>\r\n"
    b"\r\n.leading dot\r\n..two dots\r\n.\r\nx\r\n",
    b"From: sender@example.org\r\nSubject: mime\r\nMessage-ID: <mime@example.org>\r\n"
    b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
    b"preamble\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n\r\nh\xc3\xa9llo\r\n"
    b"--b1\r\nContent-Type: application/octet-stream\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\n" + b"QUJD" * 40 + b"\r\n"
    b"--b1--\r\n" + b"L" * 990 + b"\r\nend\r\n",
]


DEBIAN_PACKAGE = {"mbsync": "isync", "offlineimap": "offlineimap3",
                  "script": "bsdutils", "timeout": "coreutils"}


def need(*tools):
    missing = [t for t in tools if shutil.which(t) is None]
    return unittest.skipIf(missing, "%s not installed (Debian package %s; "
                           "tools/deps.sh installs it)"
                           % (", ".join(missing),
                              ", ".join(DEBIAN_PACKAGE.get(t, t) for t in missing)))


def wait_until(cond, timeout=10.0, step=0.05):
    deadline = time.time() + timeout
    while True:
        v = cond()
        if v or time.time() >= deadline:
            return v
        time.sleep(step)


def lf(data):
    return data.replace(b"\r\n", b"\n")


def strip_tuid(data):
    """isync puts an X-TUID: header (its own tracking, mbsync(1)) at the
    end of the header of every message it copies; take it out again."""
    return re.sub(rb"\A((?:[^\n]+\n)*?)X-TUID: [^\n]*\n", rb"\1", data, count=1)


def base_name(name):
    """A Maildir file name without its info (":2,FS") part."""
    return os.path.basename(name).split(":", 1)[0]


def info_flags(name):
    n = os.path.basename(name)
    return n.split(":2,", 1)[1] if ":2," in n else ""


def folder_files(maildir_path, folder="INBOX"):
    """{path relative to the folder: bytes} of the messages of a Maildir
    folder ("INBOX" is the Maildir itself, "Sent" its ".Sent")."""
    d = maildir_path if folder == "INBOX" else os.path.join(maildir_path, "." + folder)
    return read_maildir(d)


def read_maildir(d):
    out = {}
    for sub in ("new", "cur"):
        try:
            names = sorted(os.listdir(os.path.join(d, sub)))
        except FileNotFoundError:
            continue
        for n in names:
            try:
                with open(os.path.join(d, sub, n), "rb") as f:
                    out[sub + "/" + n] = f.read()
            except FileNotFoundError:
                pass
    return out


def the_one(files, marker):
    """The single message of a list that contains marker."""
    hits = [f for f in files if marker in f]
    assert len(hits) == 1, (marker, len(hits))
    return hits[0]


def in_delivery_order(files):
    """Contents of a {name: bytes} map ordered by delivery (names begin
    with the delivery time)."""
    return [files[k] for k in sorted(files, key=base_name)]


class ClientBase(PosternTestCase):
    """One server with SMTP, IMAP (plaintext LOGIN allowed on loopback,
    STARTTLS offered) and imaps, the test certificate, alice's INBOX
    filled over SMTP, and a HOME for the client."""
    tls_cn = TLS_NAME
    plaintext = "yes"            # imap_plaintext_auth

    def setUp(self):
        srv = self.server(start=False)
        self.crt, self.key = make_cert(srv.dir, cn=self.tls_cn)
        srv.imap_port = free_port()
        srv.imaps_port = free_port()
        srv.extra = ["tls_cert = %s" % self.crt, "tls_key = %s" % self.key,
                     "listen_imap = 127.0.0.1:%d" % srv.imap_port,
                     "listen_imaps = 127.0.0.1:%d" % srv.imaps_port,
                     "imap_plaintext_auth = %s" % self.plaintext]
        srv.write_config()
        srv.start()
        srv.wait_listening(port=srv.imap_port)
        self.wait_imaps_greeting(srv)
        self.srv = srv
        self.home = os.path.join(srv.dir, "home")
        os.mkdir(self.home, 0o700)
        self.env = {"HOME": self.home, "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                    "LANG": "C.UTF-8", "TZ": "UTC"}

    def wait_imaps_greeting(self, srv, timeout=10.0):
        """The imaps port answers a TLS handshake with an IMAP greeting
        (harness.wait_listening would wait for a greeting in clear)."""
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", srv.imaps_port), 2) as raw:
                    with client_context().wrap_socket(raw) as s:
                        greeting = s.recv(512)
                        s.sendall(b"a LOGOUT\r\n")
                if greeting.startswith(b"* OK"):
                    return
                last = greeting
            except OSError as e:
                last = e
            time.sleep(0.05)
        self.fail("imaps not answering on port %d: %r" % (srv.imaps_port, last))

    # -- server side -----------------------------------------------------
    def deliver_all(self, user="alice", bodies=BODIES):
        before = len(self.srv.mails(user))
        s = self.srv.smtp()
        try:
            for b in bodies:
                s.sendmail("sender@example.org", [user + "@" + DOMAIN], b)
        finally:
            s.quit()
        got = self.srv.wait_mails(user, count=before + len(bodies))
        self.assertEqual(len(got), before + len(bodies))
        return self.inbox(user)

    def server_folder(self, folder="INBOX", user="alice"):
        return folder_files(self.srv.maildir(user), folder)

    def inbox(self, user="alice"):
        """The user's INBOX messages in delivery order (= UID order)."""
        return in_delivery_order(self.server_folder("INBOX", user))

    def imaplib_login(self, user="alice"):
        m = imaplib.IMAP4_SSL("127.0.0.1", self.srv.imaps_port, timeout=10,
                              ssl_context=client_context())
        m.login(user, PASSWORDS[user])
        return m

    # -- clients -----------------------------------------------------------
    def path(self, *parts):
        return os.path.join(self.home, *parts)

    def write(self, name, text, mode=0o600):
        p = self.path(name)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, mode)
        return p

    def run_client(self, argv, ok=(0,), stdin=None):
        r = subprocess.run(argv, capture_output=True, env=self.env, cwd=self.home,
                           input=stdin, timeout=CLIENT_TIMEOUT)
        self.assertIn(r.returncode, ok, "%s exited %d\nstdout:\n%s\nstderr:\n%s"
                      % (argv[0], r.returncode,
                         r.stdout.decode("utf-8", "replace")[-4000:],
                         r.stderr.decode("utf-8", "replace")[-4000:]))
        return r


# ---------------------------------------------------------------------------
class Curl(ClientBase):
    def curl(self, url, *args, ok=(0,)):
        return self.run_client(["curl", "-s", "-S", "--max-time", "20",
                                "-u", "alice:" + PASSWORDS["alice"]] +
                               list(args) + [url], ok=ok)

    def url(self, path="", scheme="imap"):
        if scheme == "imaps":
            return "imaps://%s:%d/%s" % (TLS_NAME, self.srv.imaps_port, path)
        return "imap://127.0.0.1:%d/%s" % (self.srv.imap_port, path)

    def resolve(self):
        return ["--resolve", "%s:%d:127.0.0.1" % (TLS_NAME, self.srv.imaps_port)]

    @need("curl")
    def test_list_search_fetch_by_uid(self):
        files = self.deliver_all()
        r = self.curl(self.url())
        listing = r.stdout.decode()
        for name in ("INBOX", "Sent", "Drafts", "Trash", "Junk"):
            self.assertRegex(listing, r'(?m)^\* LIST \([^)]*\) "/" "?%s"?\r$' % name)
        self.assertRegex(listing, r'(?m)^\* LIST \([^)]*\\Sent[^)]*\) "/" "?Sent"?\r$')
        for uid, want in enumerate(files, 1):
            r = self.curl(self.url("INBOX;UID=%d" % uid))
            self.assertEqual(r.stdout, want, "UID %d differs from the Maildir file" % uid)
        # A section: the body of the second message only.
        r = self.curl(self.url("INBOX/;UID=2/;SECTION=TEXT"))
        self.assertEqual(r.stdout, files[1].split(b"\r\n\r\n", 1)[1])
        r = self.curl(self.url("INBOX?SUBJECT%20dots"))
        dots = [i for i, f in enumerate(files, 1) if b"Subject: dots" in f]
        self.assertEqual(r.stdout, b"* SEARCH %d\r\n" % dots[0])
        # curl's FETCH is BODY[]: it marks the messages \Seen, in the file names.
        self.assertTrue(wait_until(lambda: all(
            "S" in info_flags(n) for n in self.server_folder())),
            sorted(self.server_folder()))
        # A UID that does not exist is an error, not an empty message.
        r = self.curl(self.url("INBOX;UID=99"), ok=range(1, 256))
        self.assertEqual(r.stdout, b"")

    @need("curl")
    def test_append_upload(self):
        msg = (b"From: alice@" + DOMAIN.encode() + b"\r\nTo: bob@example.net\r\n"
               b"Subject: uploaded\r\n\r\nsent by curl\r\n.\r\nend\r\n")
        p = self.path("msg.eml")
        with open(p, "wb") as f:
            f.write(msg)
        self.curl(self.url("Sent"), "-T", p)
        got = list(self.server_folder("Sent").values())
        self.assertEqual(got, [msg])
        r = self.curl(self.url("Sent;UID=1"))
        self.assertEqual(r.stdout, msg)

    @need("curl")
    def test_imaps_with_test_ca(self):
        files = self.deliver_all()
        r = self.curl(self.url("INBOX;UID=3", "imaps"), "--cacert", self.crt,
                      *self.resolve())
        self.assertEqual(r.stdout, files[2])
        r = self.curl(self.url("", "imaps"), "--cacert", self.crt, *self.resolve())
        self.assertIn(b'"/" INBOX', r.stdout)
        # The certificate is really checked: without the CA, curl refuses.
        r = self.curl(self.url("INBOX;UID=3", "imaps"), *self.resolve(),
                      ok=(60,))
        self.assertEqual(r.stdout, b"")
        self.assertTrue(self.srv.wait_log(r'login ok: client=\S+ user="alice"'),
                        "no login line in the log")

    @need("curl")
    def test_starttls_required(self):
        files = self.deliver_all()
        r = self.run_client(["curl", "-s", "-S", "--max-time", "20", "--ssl-reqd",
                             "--cacert", self.crt, "--resolve",
                             "%s:%d:127.0.0.1" % (TLS_NAME, self.srv.imap_port),
                             "-u", "alice:" + PASSWORDS["alice"],
                             "imap://%s:%d/INBOX;UID=1" % (TLS_NAME, self.srv.imap_port)])
        self.assertEqual(r.stdout, files[0])

    @need("curl")
    def test_wrong_password(self):
        r = self.run_client(["curl", "-s", "--max-time", "20", "-u", "alice:wrong",
                             self.url("INBOX;UID=1")], ok=(67,))
        self.assertEqual(r.stdout, b"")


# ---------------------------------------------------------------------------
class Fetchmail(ClientBase):
    def fetchmail(self, poll, tls, keep="keep"):
        out = self.path("out")
        rc = self.write("fetchmailrc",
                        "set no syslog\n" + poll +
                        '  user "alice" password "%s" is root here\n'
                        '  %s fetchall no rewrite no stripcr\n'
                        '  mda "/bin/sh -c \'cat >> %s; echo ==END== >> %s\'"\n'
                        % (PASSWORDS["alice"], keep, out, out) + tls)
        self.env["FETCHMAILHOME"] = self.home
        self.run_client(["fetchmail", "-f", rc, "--nosyslog", "--nodetach",
                         "--pidfile", self.path("pid")])
        with open(out, "rb") as f:
            return [g for g in f.read().split(b"==END==\n") if g]

    def check(self, files, got):
        self.assertEqual(len(got), len(files))
        for want, g in zip(files, got):
            # fetchmail adds one Received: header of its own (after the
            # trace lines it found); without it, the message must be the
            # Maildir file, CRLFs included (no stripcr, no rewrite).
            m = re.search(rb"(?m)^Received: from 127\.0\.0\.1[^\n]*\n(?:[ \t][^\n]*\n)*", g)
            self.assertTrue(m and b"with IMAP (fetchmail" in m.group(0), g[:400])
            self.assertEqual(g[:m.start()] + g[m.end():], want,
                             "fetchmail's copy differs from the Maildir file")

    @need("fetchmail")
    def test_fetch_imap_plain(self):
        files = self.deliver_all()
        # sslproto '': no opportunistic STARTTLS (this is the clear port).
        got = self.fetchmail("poll 127.0.0.1 protocol IMAP service %d\n"
                             % self.srv.imap_port, "  sslproto ''\n")
        self.check(files, got)
        # keep: the messages stay, now \Seen (as the file names say).
        now = self.server_folder()
        self.assertEqual(len(now), len(files))
        self.assertTrue(all("S" in info_flags(n) for n in now), sorted(now))
        self.assertTrue(self.srv.wait_log(r'login ok: client=\S+ user="alice"'))

    @need("fetchmail")
    def test_fetch_and_delete(self):
        files = self.deliver_all()
        got = self.fetchmail("poll 127.0.0.1 protocol IMAP service %d\n"
                             % self.srv.imap_port, "  sslproto ''\n", keep="no keep")
        self.check(files, got)
        # fetchmail flags each message \Deleted and EXPUNGEs at the end.
        self.assertEqual(self.server_folder(), {})

    @need("fetchmail")
    def test_idle_fetches_new_mail(self):
        """--idle: after the first fetch fetchmail stays in IDLE; a
        delivery must wake it (no poll interval is configured)."""
        files = self.deliver_all()
        out = self.path("out")
        rc = self.write("fetchmailrc",
                        "set no syslog\npoll 127.0.0.1 protocol IMAP service %d\n"
                        '  user "alice" password "%s" is root here\n'
                        "  keep no rewrite no stripcr idle sslproto ''\n"
                        '  mda "/bin/sh -c \'cat >> %s; echo ==END== >> %s\'"\n'
                        % (self.srv.imap_port, PASSWORDS["alice"], out, out))
        self.env["FETCHMAILHOME"] = self.home

        def fetched():
            try:
                with open(out, "rb") as f:
                    return [g for g in f.read().split(b"==END==\n") if g]
            except FileNotFoundError:
                return []
        p = subprocess.Popen(["fetchmail", "-v", "-f", rc, "--nosyslog", "--nodetach",
                              "--pidfile", self.path("pid")],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             env=self.env, cwd=self.home)
        try:
            self.assertTrue(wait_until(lambda: len(fetched()) == 3 or p.poll() is not None,
                                       timeout=30))
            self.assertEqual(len(fetched()), 3)
            self.assertIsNone(p.poll(), "fetchmail did not stay in IDLE")
            new = b"From: sender@example.org\r\nSubject: while idle\r\n\r\nwake up\r\n"
            self.deliver_all(bodies=[new])
            t0 = time.time()
            got = wait_until(lambda: len(fetched()) == 4, timeout=10)
            self.assertTrue(got, "the delivery did not wake fetchmail's IDLE")
            self.assertLess(time.time() - t0, 5.0)
        finally:
            p.terminate()
            try:
                log = p.communicate(timeout=10)[0]
            except subprocess.TimeoutExpired:
                p.kill()
                log = p.communicate()[0]
        self.assertRegex(log, rb"IMAP> A\d+ IDLE", "fetchmail never sent IDLE")
        self.check(self.inbox(), fetched())

    @need("fetchmail")
    def test_fetch_imaps_checked_certificate(self):
        files = self.deliver_all()
        got = self.fetchmail("poll %s via 127.0.0.1 protocol IMAP service %d\n"
                             % (TLS_NAME, self.srv.imaps_port),
                             "  ssl sslcertck sslcertfile %s sslcommonname %s\n"
                             % (self.crt, TLS_NAME))
        self.check(files, got)


# ---------------------------------------------------------------------------
class Mbsync(ClientBase):
    """mbsync over imaps (the test certificate in CertificateFile), far
    side the server, near side a Maildir under HOME (isync stores LF line
    ends there and sends CRLF to the server). isync checks the name it
    connects to against the certificate even when CertificateFile holds
    it: the certificate is made for 127.0.0.1 here."""
    tls_cn = "127.0.0.1"

    def setUp(self):
        super().setUp()
        self.near = self.path("mail")
        os.mkdir(self.near)
        self.rc = self.write("mbsyncrc", """\
IMAPAccount postern
Host 127.0.0.1
Port %d
User alice
Pass %s
SSLType %s
CertificateFile %s
AuthMechs LOGIN
Timeout 20

IMAPStore far
Account postern

MaildirStore near
Path %s/
Inbox %s/INBOX
SubFolders Verbatim

Channel box
Far :far:
Near :near:
Patterns *
Create Both
Expunge Both
Sync All
SyncState *
""" % (self.port(), PASSWORDS["alice"], self.ssl_type, self.crt, self.near, self.near))

    ssl_type = "IMAPS"

    def port(self):
        return self.srv.imaps_port

    def mbsync(self):
        return self.run_client(["mbsync", "-c", self.rc, "-a"])

    def near_folder(self, folder="INBOX"):
        return read_maildir(os.path.join(self.near, folder))

    def near_path(self, folder, rel):
        return os.path.join(self.near, folder, rel)

    def by_message_id(self, files):
        out = {}
        for name, data in files.items():
            m = re.search(rb"(?im)^Message-ID: *(<[^>]*>)", data)
            out[m.group(1) if m else name.encode()] = (name, data)
        return out

    @need("mbsync")
    def test_sync_both_ways(self):
        files = self.deliver_all()
        self.mbsync()
        # Pulled: every INBOX message, identical apart from isync's LF
        # and its X-TUID header.
        near = self.near_folder()
        self.assertEqual(sorted(lf(f) for f in files),
                         sorted(strip_tuid(d) for d in near.values()))
        for folder in ("Sent", "Drafts", "Trash", "Junk"):
            self.assertTrue(os.path.isdir(os.path.join(self.near, folder, "cur")),
                            "folder %s not created near" % folder)

        # Near -> far: a message written into the near Sent folder.
        sent = (b"From: alice@" + DOMAIN.encode() + b"\nTo: bob@example.net\n"
                b"Subject: from mbsync\nMessage-ID: <pushed@example.org>\n\n"
                b"pushed by mbsync\n.\nbye\n")
        with open(self.near_path("Sent", "new/1700000000.pushed.client:2,S"), "wb") as f:
            f.write(sent)
        # Flags both ways: \Seen set near on "one", \Flagged set far on "dots".
        near_ids = self.by_message_id(near)
        one_name, _ = near_ids[b"<one@example.org>"]
        src = self.near_path("INBOX", one_name)
        dst = self.near_path("INBOX", "cur/" + base_name(one_name) + ":2,S")
        os.rename(src, dst)
        m = self.imaplib_login()
        m.select("INBOX")
        typ, data = m.uid("SEARCH", "HEADER", "Message-ID", "<dots@example.org>")
        self.assertEqual(typ, "OK")
        dots = [b"%d" % i for i, f in enumerate(files, 1) if b"<dots@" in f]
        self.assertEqual(data[0].split(), dots)
        self.assertEqual(m.uid("STORE", dots[0], "+FLAGS", r"(\Flagged)")[0], "OK")
        m.logout()

        self.mbsync()
        far_sent = list(self.server_folder("Sent").items())
        self.assertEqual(len(far_sent), 1, far_sent)
        name, data = far_sent[0]
        self.assertEqual(data, lf(data).replace(b"\n", b"\r\n"), "not CRLF on the server")
        self.assertEqual(strip_tuid(lf(data)), sent,
                         "the pushed message differs on the server")
        self.assertIn("S", info_flags(name), "\\Seen of the pushed message lost")
        far_ids = self.by_message_id(self.server_folder())
        self.assertIn("S", info_flags(far_ids[b"<one@example.org>"][0]),
                      "\\Seen set near not propagated: %s" % sorted(far_ids.values()))
        near_ids = self.by_message_id(self.near_folder())
        self.assertIn("F", info_flags(near_ids[b"<dots@example.org>"][0]),
                      "\\Flagged set far not propagated: %r"
                      % sorted(n for n, _ in near_ids.values()))

        # Nothing changed: a third run changes no file on either side.
        before_far = {f: sorted(self.server_folder(f)) for f in ("INBOX", "Sent")}
        before_near = {f: sorted(self.near_folder(f)) for f in ("INBOX", "Sent")}
        self.mbsync()
        self.assertEqual(before_far, {f: sorted(self.server_folder(f)) for f in ("INBOX", "Sent")})
        self.assertEqual(before_near, {f: sorted(self.near_folder(f)) for f in ("INBOX", "Sent")})

        # A deletion near is expunged far (Expunge Both): delete "mime".
        near_ids = self.by_message_id(self.near_folder())
        os.unlink(self.near_path("INBOX", near_ids[b"<mime@example.org>"][0]))
        self.mbsync()
        far = self.by_message_id(self.server_folder())
        self.assertEqual(sorted(far), [b"<dots@example.org>", b"<one@example.org>"])
        self.assertEqual(lf(far[b"<dots@example.org>"][1]), lf(the_one(files, b"<dots@")))


class MbsyncStarttls(Mbsync):
    """The same sync on port 143 with STARTTLS, LOGIN refused before TLS
    (imap_plaintext_auth = no: LOGINDISABLED until STARTTLS)."""
    ssl_type = "STARTTLS"
    plaintext = "no"

    def port(self):
        return self.srv.imap_port

    @need("mbsync")
    def test_no_login_in_clear(self):
        self.deliver_all()
        with open(self.rc) as f:
            text = f.read()
        with open(self.rc, "w") as f:
            f.write(text.replace("SSLType STARTTLS", "SSLType None"))
        r = self.run_client(["mbsync", "-c", self.rc, "-a"], ok=(1,))
        # LOGINDISABLED and no AUTH=PLAIN before TLS: nothing to log in with.
        self.assertIn(b"no acceptable authentication mechanism", r.stdout + r.stderr)
        self.assertEqual(self.near_folder(), {})
        self.assertNotRegex(self.srv.log(), r'login ok: client=\S+ user="alice"')


# ---------------------------------------------------------------------------
class OfflineImap(ClientBase):
    """offlineimap3 (plain IMAP, LOGIN): read the INBOX into a Maildir,
    then move a message to Trash locally and sync the move to the server."""

    def setUp(self):
        super().setUp()
        self.local = self.path("mail")
        self.rc = self.write("offlineimaprc", """\
[general]
accounts = postern
metadata = %s/meta
ui = basic

[Account postern]
localrepository = near
remoterepository = far

[Repository near]
type = Maildir
localfolders = %s

[Repository far]
type = IMAP
remotehost = 127.0.0.1
remoteport = %d
remoteuser = alice
remotepass = %s
ssl = no
starttls = no
auth_mechanisms = LOGIN
timeout = 30
""" % (self.home, self.local, self.srv.imap_port, PASSWORDS["alice"]))

    def offlineimap(self):
        return self.run_client(["offlineimap", "-c", self.rc, "-o", "-u", "basic"])

    def local_folder(self, folder):
        return read_maildir(os.path.join(self.local, folder))

    @need("offlineimap")
    def test_read_and_move(self):
        files = self.deliver_all()
        self.offlineimap()
        local = self.local_folder("INBOX")
        self.assertEqual(sorted(lf(f) for f in files), sorted(lf(d) for d in local.values()))
        # Moved locally from INBOX to Trash (a new name: offlineimap's
        # names carry the folder they came from).
        name = [n for n, d in local.items() if b"Subject: dots" in d][0]
        with open(os.path.join(self.local, "INBOX", name), "rb") as f:
            moved = f.read()
        os.makedirs(os.path.join(self.local, "Trash", "cur"), exist_ok=True)
        os.rename(os.path.join(self.local, "INBOX", name),
                  os.path.join(self.local, "Trash", "cur", "1700000000.moved.client:2,S"))
        self.offlineimap()
        inbox = self.server_folder("INBOX")
        trash = self.server_folder("Trash")
        self.assertEqual(len(inbox), 2, sorted(inbox))
        self.assertFalse(any(b"Subject: dots" in d for d in inbox.values()))
        self.assertEqual(len(trash), 1, sorted(trash))
        tname, tdata = list(trash.items())[0]
        self.assertEqual(lf(tdata), lf(the_one(files, b"Subject: dots")))
        self.assertEqual(lf(tdata), lf(moved))
        self.assertIn("S", info_flags(tname))
        # offlineimap learnt the new UID from [APPENDUID] (no
        # X-OfflineIMAP header was needed: the bytes above are equal).
        local_trash = list(self.local_folder("Trash"))
        self.assertEqual(len(local_trash), 1, local_trash)
        self.assertIn(",U=1,", local_trash[0])
        # A third run with nothing to do changes nothing on the server.
        before = {f: sorted(self.server_folder(f)) for f in ("INBOX", "Trash")}
        self.offlineimap()
        self.assertEqual(before, {f: sorted(self.server_folder(f)) for f in ("INBOX", "Trash")})



# ---------------------------------------------------------------------------
class Neomutt(ClientBase):
    """neomutt driven by keys pushed at start-up (it needs a terminal:
    script(1) gives it a pseudo-terminal), over imaps with the test CA
    (ssl_verify_host off: the name is an address, the chain is checked):
    pipe a message out, save one to Trash, sync (expunge), quit."""

    def neomutt(self, keys):
        rc = self.write("muttrc", """\
set folder = "imaps://alice@127.0.0.1:%d/"
set imap_pass = "%s"
set spoolfile = "+INBOX"
set ssl_ca_certificates_file = "%s"
set certificate_file = "%s"
set ssl_verify_host = no
set header_cache = ""
set message_cachedir = ""
set confirmappend = no
set confirmcreate = no
set move = no
set mark_old = no
set wait_key = no
set delete = yes
set pipe_decode = no
set sort = mailbox-order
""" % (self.srv.imaps_port, PASSWORDS["alice"], self.crt, self.path("certs")))
        cmd = "neomutt -n -F %s -e 'push \"%s\"'" % (rc, keys)
        env = dict(self.env, TERM="xterm", COLUMNS="80", LINES="24")
        r = subprocess.run(["timeout", "30", "script", "-qec", cmd, "/dev/null"],
                           capture_output=True, env=env, cwd=self.home,
                           stdin=subprocess.DEVNULL, timeout=CLIENT_TIMEOUT)
        self.assertEqual(r.returncode, 0, "neomutt did not finish (a prompt?); "
                         "screen:\n%r" % r.stdout[-1500:])

    @need("neomutt", "script", "timeout")
    def test_read_and_save_to_trash(self):
        files = self.deliver_all()
        out = self.path("piped")
        self.neomutt("<pipe-message>cat > %s<enter>"
                     "<tag-pattern>~s dots<enter><tag-prefix><save-message>=Trash<enter>"
                     "<sync-mailbox><exit>" % out)
        with open(out, "rb") as f:
            self.assertEqual(f.read(), lf(files[0]), "neomutt piped another message")
        inbox = self.server_folder("INBOX")
        self.assertEqual(sorted(inbox.values()),
                         sorted(f for f in files if b"Subject: dots" not in f))
        trash = list(self.server_folder("Trash").values())
        self.assertEqual(trash, [the_one(files, b"Subject: dots")])



# ---------------------------------------------------------------------------
class Rev1Check(ClientBase):
    """CHECK (RFC 3501 6.4.1) is gone from IMAP4rev2 but the server also
    serves IMAP4rev1, and mbsync and offlineimap send it after changing a
    folder: it must be a tagged OK in the selected state."""

    def test_check_selected(self):
        self.deliver_all()
        m = self.imaplib_login()
        m.select("INBOX")
        typ, data = m.check()
        self.assertEqual(typ, "OK", data)
        m.close()
        with self.assertRaises(m.error):     # not selected: BAD
            m._simple_command("CHECK")
        m.logout()


if __name__ == "__main__":
    unittest.main()
