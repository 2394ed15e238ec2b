"""The subcommands: check, relay-check, user add/passwd/del; the front end
(usage, help, --version, exit codes) and the mailq / newaliases names."""
import os
import re
import shutil
import subprocess
import tempfile
import time

from harness import POSTERN, PosternTestCase, RawClient, Server, run_postern

EX_USAGE, EX_CONFIG = 64, 78

RULES = '127.0.0.9:allow,RELAYCLIENT=""\n127.0.0.66:deny\n'


class Check(PosternTestCase):

    def setUp(self):
        self.srv = self.server(start=False, relay_rules=RULES)

    def write(self, text, name="bad.conf"):
        path = os.path.join(self.srv.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def base(self, omit=()):
        return [l for l in self.srv.config_lines() if l.split(" ", 1)[0] not in omit]

    def test_good_config(self):
        r = run_postern(["check", "-c", self.srv.conf])
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout
        for key, val in (("local_domains", "mydomain.test"), ("hostname", "mx.mydomain.test"),
                         ("spool", self.srv.spool), ("users", self.srv.users_path),
                         ("max_message_size", "1024000"), ("relay_rules", self.srv.rules_path),
                         ("listen_smtp", "127.0.0.1:%d" % self.srv.port)):
            self.assertRegex(out, r"(?m)^%s\s*=\s*%s\s*$" % (re.escape(key), re.escape(val)))
        # defaults are printed too (every effective value)
        self.assertRegex(out, r"(?m)^local_networks\s*=")
        self.assertRegex(out, r"(?m)^route \* = 127\.0\.0\.1:%d" % self.srv.sink_port)

    def test_defaults_printed(self):
        lines = self.base(omit=("hostname", "local_networks", "max_message_size", "postmaster"))
        path = self.write("\n".join(lines) + "\n", "min.conf")
        r = run_postern(["check", "-c", path])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"(?m)^max_message_size\s*=\s*10240000\s*$")
        self.assertRegex(r.stdout, r"(?m)^local_networks\s*=\s*127\.0\.0\.1/32,\s*::1/128\s*$")
        self.assertRegex(r.stdout, r"(?m)^hostname\s*=\s*\S+")

    def assertErrorAt(self, stderr, path, line, what):
        rx = r"(?m)^%s:%d: .*%s" % (re.escape(path), line, what)
        self.assertRegex(stderr, rx)

    def test_unknown_key(self):
        lines = self.base() + ["# comment", "frobnicate = yes"]
        path = self.write("\n".join(lines) + "\n")
        r = run_postern(["check", "-c", path])
        self.assertNotEqual(r.returncode, 0)
        self.assertErrorAt(r.stderr, path, len(lines), "frobnicate")

    def test_missing_required_keys(self):
        for key in ("local_domains", "users", "spool", "listen_smtp"):
            with self.subTest(key=key):
                path = self.write("\n".join(self.base(omit=(key,))) + "\n", "miss-%s.conf" % key)
                r = run_postern(["check", "-c", path])
                self.assertNotEqual(r.returncode, 0, "missing %s accepted" % key)
                self.assertRegex(r.stderr, r"%s(:\d+)?: .*%s" % (re.escape(path), key))

    def test_bad_cidr(self):
        for bad in ("127.0.0.1/33", "::1/129", "300.0.0.1/8", "127.0.0.1/", "localhost",
                    "127.0.0.1/32,", "10.0.0.0/8 192.168.0.0/16"):
            with self.subTest(value=bad):
                lines = self.base(omit=("local_networks",))
                lines.insert(2, "local_networks = " + bad)
                path = self.write("\n".join(lines) + "\n")
                r = run_postern(["check", "-c", path])
                self.assertNotEqual(r.returncode, 0, "%r accepted" % bad)
                self.assertErrorAt(r.stderr, path, 3, "local_networks")

    def test_many_errors_all_reported(self):
        lines = self.base(omit=("local_networks", "max_message_size", "listen_smtp"))
        lines += ["unknown_one = 1",                 # n+1
                  "local_networks = 1.2.3.0/99",     # n+2
                  "max_message_size = lots",         # n+3
                  "listen_smtp = 127.0.0.1",         # n+4 (no port)
                  "this line has no equals sign",    # n+5
                  "route example.com = nohostport"]  # n+6
        n = len(lines) - 6
        path = self.write("\n".join(lines) + "\n")
        r = run_postern(["check", "-c", path])
        self.assertNotEqual(r.returncode, 0)
        for i in range(1, 7):
            self.assertRegex(r.stderr, r"(?m)^%s:%d: " % (re.escape(path), n + i),
                             "no error reported for line %d" % (n + i))

    def test_value_bounds(self):
        for key, val, ok in (("max_message_size", "1024", True), ("max_message_size", "1023", False),
                             ("max_message_size", "2147483647", True),
                             ("max_message_size", "2147483648", False),
                             ("max_message_size", "-1", False)):
            with self.subTest(key=key, val=val):
                lines = self.base(omit=(key,)) + ["%s = %s" % (key, val)]
                path = self.write("\n".join(lines) + "\n")
                r = run_postern(["check", "-c", path])
                if ok:
                    self.assertEqual(r.returncode, 0, r.stderr)
                else:
                    self.assertNotEqual(r.returncode, 0, "%s = %s accepted" % (key, val))
                    self.assertErrorAt(r.stderr, path, len(lines), key)

    def test_relay_rules_errors(self):
        for rules, what in (('127.0.0.9:allow,RELAYCLIENT="@foo"\n', "RELAYCLIENT"),
                            ('=mail.example.com:allow,RELAYCLIENT=""\n', ""),
                            ('127.0.0.9:maybe\n', "")):
            with self.subTest(rules=rules):
                rpath = self.write(rules, "rules-bad")
                lines = self.base(omit=("relay_rules",)) + ["relay_rules = " + rpath]
                path = self.write("\n".join(lines) + "\n")
                r = run_postern(["check", "-c", path])
                self.assertNotEqual(r.returncode, 0, "%r accepted" % rules)
                self.assertErrorAt(r.stderr, rpath, 1, what)

    def test_relay_rules_good_syntax(self):
        rpath = self.write('# qmail style\n127.:allow,RELAYCLIENT=""\n192.168.1.:allow,RELAY=""\n'
                           '10.0.0.1-50:allow,RELAYCLIENT=""\n1.2.3.4:deny\n:allow\n', "rules-good")
        lines = self.base(omit=("relay_rules",)) + ["relay_rules = " + rpath]
        path = self.write("\n".join(lines) + "\n")
        r = run_postern(["check", "-c", path])
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_missing_config_file(self):
        r = run_postern(["check", "-c", os.path.join(self.srv.dir, "nope.conf")])
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("nope.conf", r.stderr)


class RelayCheck(PosternTestCase):

    def setUp(self):
        self.srv = self.server(start=False, relay_rules=RULES)

    def rc(self, client, rcpt, sender="x@example.org", auth=None):
        args = ["relay-check", "-c", self.srv.conf, "--client", client, "--from", sender,
                "--rcpt", rcpt]
        if auth:
            args[3:3] = ["--auth", auth]
        r = run_postern(args)
        fields = dict(re.findall(r"(?m)^(decision|reply|rule): (.*)$", r.stdout))
        return r.returncode, fields, r

    def test_four_cases(self):
        table = [
            ("127.0.0.1", "alice@mydomain.test", 0, "accept-local", "250"),
            ("127.0.0.2", "alice@mydomain.test", 0, "accept-local", "250"),
            ("127.0.0.1", "bob@example.net", 0, "accept-relay", "250"),
            ("127.0.0.2", "bob@example.net", 1, "reject", "554 5.7.1 Relay access denied"),
        ]
        for client, rcpt, code, decision, reply in table:
            with self.subTest(client=client, rcpt=rcpt):
                rc, f, r = self.rc(client, rcpt)
                self.assertEqual(rc, code, r.stdout + r.stderr)
                self.assertEqual(f.get("decision"), decision, r.stdout)
                self.assertTrue(f.get("reply", "").startswith(reply), r.stdout)
                self.assertTrue(f.get("rule"), "no rule in %r" % r.stdout)

    def test_rules_and_addresses(self):
        table = [
            ("127.0.0.9", "bob@example.net", "accept-relay", "relay_rules"),
            ("127.0.0.66", "bob@example.net", "reject", None),
            ("127.0.0.2", "bob@example.net", "reject", None),
            ("::1", "bob@example.net", "accept-relay", "local_networks"),
            ("::ffff:127.0.0.1", "bob@example.net", "accept-relay", "local_networks"),
            ("::ffff:127.0.0.2", "bob@example.net", "reject", None),
            ("::ffff:127.0.0.9", "bob@example.net", "accept-relay", "relay_rules"),
            ("127.0.0.2", "user%example.net@mydomain.test", "reject", None),
            ("127.0.0.2", "example.net!user@mydomain.test", "reject", None),
            ("127.0.0.2", "@mydomain.test:user@example.net", "reject", None),
            ("127.0.0.2", '"user@example.net"@mydomain.test', "reject", None),
            ("127.0.0.2", "user@example.net.", "reject", None),
            ("127.0.0.2", "user@EXAMPLE.NET", "reject", None),
            ("127.0.0.2", "user@evilmydomain.test", "reject", None),
            ("127.0.0.2", "user@[127.0.0.2]", "reject", None),
            ("127.0.0.2", "alice@MYDOMAIN.TEST.", "accept-local", None),
            ("127.0.0.2", "postmaster", "accept-local", None),
        ]
        for client, rcpt, decision, rule in table:
            with self.subTest(client=client, rcpt=rcpt):
                rc, f, r = self.rc(client, rcpt)
                self.assertEqual(f.get("decision"), decision, r.stdout + r.stderr)
                self.assertEqual(rc, 1 if decision == "reject" else 0)
                if rule:
                    self.assertIn(rule, f.get("rule", ""))

    def test_sender_never_matters(self):
        for sender in ("alice@mydomain.test", "postmaster@mydomain.test", "<>", ""):
            rc, f, r = self.rc("127.0.0.2", "bob@example.net", sender=sender)
            if r.returncode == EX_USAGE and sender in ("<>", ""):
                continue        # a usage error for an empty --from is acceptable
            self.assertEqual(f.get("decision"), "reject", r.stdout + r.stderr)

    def test_bad_arguments(self):
        for args in (["--client", "not-an-ip", "--from", "a@b.c", "--rcpt", "bob@example.net"],
                     ["--client", "127.0.0.1", "--from", "a@b.c"],
                     ["--client", "127.0.0.1"]):
            r = run_postern(["relay-check", "-c", self.srv.conf] + args)
            self.assertEqual(r.returncode, EX_USAGE, "%r: %s" % (args, r.stdout))
            self.assertNotIn("decision: accept", r.stdout)
            self.assertIn("usage: postern relay-check", r.stderr)

    def test_config_error_is_78(self):
        r = run_postern(["relay-check", "-c", os.path.join(self.srv.dir, "nope.conf"),
                         "--client", "127.0.0.1", "--from", "a@b.c", "--rcpt", "bob@example.net"])
        self.assertEqual(r.returncode, EX_CONFIG, r.stderr)
        self.assertIn("nope.conf", r.stderr)
        self.assertNotIn("decision:", r.stdout)

    def test_option_values_are_not_options(self):
        # "--auth -c": the user is "-c", not a second config option
        r = run_postern(["relay-check", "--client", "127.0.0.2", "--auth", "-c",
                         "-c", self.srv.conf, "--from", "a@b.c", "--rcpt", "alice@mydomain.test"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("decision: accept-local", r.stdout)


class RelayCheckAgreesWithServer(PosternTestCase):
    """relay-check and the running server give a relay_rules `deny` client
    the same answer: 554 at connect, before any RCPT."""

    def setUp(self):
        self.srv = self.server(relay_rules=RULES)

    def check(self, client):
        r = run_postern(["relay-check", "-c", self.srv.conf, "--client", client,
                         "--from", "a@example.org", "--rcpt", "alice@mydomain.test"])
        fields = dict(re.findall(r"(?m)^([a-z-]+): (.*)$", r.stdout))
        return r.returncode, fields, r

    def greeting(self, client):
        c = RawClient(self.srv.host, self.srv.port, source=client)
        try:
            code, text = c.reply()
            closed = c.wait_closed(3) if code == 554 else None
        finally:
            c.close()
        return code, text, closed

    def test_deny_client_refused_at_connect_by_both(self):
        rc, f, r = self.check("127.0.0.66")
        self.assertEqual(rc, 1, r.stdout + r.stderr)
        self.assertEqual(f.get("decision"), "reject", r.stdout)
        self.assertEqual(f.get("connect"), "reject", r.stdout)
        self.assertEqual(f.get("connect-reply"), "554 5.7.1 Access denied", r.stdout)
        self.assertIn("relay_rules line 2 (127.0.0.66)", f.get("connect-rule", ""), r.stdout)
        # the recipient lines keep their meaning: the address is ours
        self.assertTrue(f.get("reply", "").startswith("250"), r.stdout)
        code, text, closed = self.greeting("127.0.0.66")
        self.assertEqual(code, 554, text)
        self.assertIn("5.7.1 Access denied", text)
        self.assertTrue(closed, "connection not closed after the 554 greeting")

    def test_other_client_accepted_at_connect_by_both(self):
        rc, f, r = self.check("127.0.0.2")
        self.assertEqual(rc, 0, r.stdout + r.stderr)
        self.assertEqual(f.get("decision"), "accept-local", r.stdout)
        self.assertEqual(f.get("connect"), "accept", r.stdout)
        code, text, _ = self.greeting("127.0.0.2")
        self.assertEqual(code, 220, text)


class Users(PosternTestCase):

    def users_file(self, srv):
        with open(srv.users_path) as f:
            return f.read()

    def test_add_passwd_del(self):
        srv = self.server(start=False, users={})
        self.assertFalse(os.path.exists(srv.users_path) and self.users_file(srv).strip())
        r = srv.user("add", "carol", "carol pw with spaces")
        self.assertEqual(r.returncode, 0, r.stderr)
        text = self.users_file(srv)
        m = re.search(r"(?m)^carol:(\$(y|6)\$\S+)", text)
        self.assertTrue(m, "no yescrypt/SHA-512 hash for carol in %r" % text)
        self.assertNotIn("carol pw", text)
        h1 = m.group(1)
        mode = os.stat(srv.users_path).st_mode & 0o777
        self.assertEqual(mode & 0o077, 0, "users file mode %o readable by others" % mode)
        # add twice -> error
        r = srv.user("add", "carol", "x")
        self.assertNotEqual(r.returncode, 0)
        # passwd changes the hash
        r = srv.user("passwd", "carol", "new secret")
        self.assertEqual(r.returncode, 0, r.stderr)
        h2 = re.search(r"(?m)^carol:(\S+)", self.users_file(srv)).group(1)
        self.assertNotEqual(h1, h2)
        # second user, options in another order
        r = run_postern(["user", "add", "dave", "-c", srv.conf], stdin="d\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = run_postern(["user", "-c", srv.conf, "add", "--apop", "erin"], stdin="e\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(self.users_file(srv), r"(?m)^erin:")
        # del
        r = srv.user("del", "carol")
        self.assertEqual(r.returncode, 0, r.stderr)
        text = self.users_file(srv)
        self.assertNotRegex(text, r"(?m)^carol:")
        self.assertRegex(text, r"(?m)^dave:")
        # del / passwd of a missing user -> error
        self.assertNotEqual(srv.user("del", "carol").returncode, 0)
        self.assertNotEqual(srv.user("passwd", "carol", "x").returncode, 0)

    def test_password_rules(self):
        srv = self.server(start=False, users={})
        for pw, why in (("", "empty"), (None, "no input")):
            r = run_postern(["user", "add", "-c", srv.conf, "frank"],
                            stdin="" if pw is None else pw + "\n")
            self.assertNotEqual(r.returncode, 0, "password %s accepted" % why)
        r = run_postern(["user", "add", "-c", srv.conf, "frank"], stdin="a\rb\n")
        self.assertNotEqual(r.returncode, 0, "password with CR accepted")
        r = run_postern(["user", "add", "-c", srv.conf, "frank"], stdin="ab\x00c\n")
        self.assertNotEqual(r.returncode, 0, "password with NUL accepted")
        self.assertFalse(os.path.exists(srv.users_path) and "frank" in self.users_file(srv))
        # only the first line is the password
        r = run_postern(["user", "add", "-c", srv.conf, "frank"], stdin="first\nsecond\n")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_bad_user_names(self):
        srv = self.server(start=False, users={"alice": "pw"})
        before = self.users_file(srv)
        for name in ("", "Bad Name", "a:b", "../x", "x" * 33, "a/b", "B"):
            with self.subTest(name=name):
                r = run_postern(["user", "add", "-c", srv.conf, name], stdin="pw\n")
                self.assertEqual(r.returncode, 1, "user name %r: %s" % (name, r.stderr))
                self.assertIn("postern: bad user name '%s'" % name, r.stderr)
                self.assertEqual(r.stdout, "")
                self.assertEqual(self.users_file(srv), before)
        # a name that looks like an option is a usage error; after "--" it
        # is a name, and refused as one
        r = run_postern(["user", "add", "-c", srv.conf, "-x"], stdin="pw\n")
        self.assertEqual(r.returncode, EX_USAGE, r.stderr)
        self.assertIn("postern: user: unknown option -x", r.stderr)
        self.assertIn("usage: postern user add|passwd|del", r.stderr)
        r = run_postern(["user", "add", "-c", srv.conf, "--", "-x"], stdin="pw\n")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("postern: bad user name '-x'", r.stderr)
        self.assertEqual(self.users_file(srv), before)
        self.assertFalse(os.path.exists(srv.users_path + ".secrets"))

    def test_password_not_in_argv(self):
        srv = self.server(start=False, users={})
        r = run_postern(["user", "add", "-c", srv.conf, "gina", "secret-on-argv"], stdin="")
        self.assertNotEqual(r.returncode, 0)

    def test_running_server_sees_changes_within_2s(self):
        srv = self.server()

        def rcpt_code(addr):
            c = srv.smtp("127.0.0.2")
            try:
                c.mail("x@example.org")
                return c.rcpt(addr)[0]
            finally:
                c.quit()

        def wait_code(addr, want, limit=2.0):
            t0 = time.time()
            while True:
                code = rcpt_code(addr)
                if code == want or time.time() - t0 > limit:
                    return code, time.time() - t0
                time.sleep(0.05)

        self.assertEqual(rcpt_code("carol@mydomain.test"), 550)
        r = srv.user("add", "carol", "pw")
        self.assertEqual(r.returncode, 0, r.stderr)
        code, dt = wait_code("carol@mydomain.test", 250)
        self.assertEqual(code, 250, "new user not seen after %.1f s" % dt)
        c = srv.smtp()
        c.sendmail("x@example.org", ["carol@mydomain.test"], b"Subject: tok-carol\r\n\r\nx\r\n")
        c.quit()
        self.assertEqual(len(srv.wait_mails("carol", 1, match=b"tok-carol")), 1)
        r = srv.user("del", "carol")
        self.assertEqual(r.returncode, 0, r.stderr)
        code, dt = wait_code("carol@mydomain.test", 550)
        self.assertEqual(code, 550, "deleted user still accepted after %.1f s" % dt)
        # several quick changes in a row are all seen
        for n in ("u1", "u2", "u3"):
            self.assertEqual(srv.user("add", n, "pw").returncode, 0)
        for n in ("u1", "u2", "u3"):
            code, dt = wait_code("%s@mydomain.test" % n, 250)
            self.assertEqual(code, 250, "%s not seen after %.1f s" % (n, dt))


class FrontEnd(PosternTestCase):
    """One usage style, help, --version, and usage errors exiting 64 in
    every subcommand."""

    SUBCOMMANDS = ("serve", "check", "relay-check", "user", "grants", "queue",
                   "sendmail", "mailq", "newaliases")

    def test_help_lists_every_subcommand(self):
        for args in (["help"], ["--help"]):
            r = run_postern(args)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertTrue(r.stdout.startswith("usage: postern "), r.stdout)
            for cmd in self.SUBCOMMANDS:
                self.assertRegex(r.stdout, r"(?m)^(usage:| +) postern %s( |$)" % re.escape(cmd))
        r = run_postern([])
        self.assertEqual(r.returncode, EX_USAGE)
        self.assertTrue(r.stderr.startswith("usage: postern "), r.stderr)
        r = run_postern(["frobnicate"])
        self.assertEqual(r.returncode, EX_USAGE)
        self.assertIn("postern: unknown command frobnicate", r.stderr)

    def test_version(self):
        r = run_postern(["--version"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"^postern \d+\.\d+\.\d+\n$")

    def test_subcommand_help(self):
        for cmd in ("serve", "check", "relay-check", "user", "grants", "queue"):
            with self.subTest(cmd=cmd):
                r = run_postern([cmd, "--help"])
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertTrue(r.stdout.startswith("usage: postern %s " % cmd), r.stdout)

    def test_usage_errors_exit_64(self):
        srv = self.server(start=False)
        c = ["-c", srv.conf]
        cases = [
            ["serve"] + c + ["extra"],
            ["check"] + c + ["extra"],
            ["check", "-c"],
            ["relay-check"] + c + ["--client", "127.0.0.1"],
            ["relay-check"] + c + ["--bogus", "x"],
            ["user"] + c + ["add"],
            ["user"] + c + ["frob", "carol"],
            ["user"] + c + ["del", "--apop", "alice"],
            ["user"] + c + ["add", "carol", "extra"],
            ["grants"] + c + ["revoke"],
            ["grants"] + c + ["revoke", "not-an-ip"],
            ["grants"] + c + ["list", "extra"],
            ["queue"] + c + ["frobnicate"],
            ["queue"] + c + ["hold"],
            ["queue"] + c + ["--bogus"],
            ["sendmail", "-C", srv.conf, "-bs"],
            ["mailq", "-C", srv.conf, "extra"],
            ["newaliases", "-C", srv.conf, "extra"],
        ]
        for args in cases:
            with self.subTest(args=args):
                r = run_postern(args, stdin="")
                self.assertEqual(r.returncode, EX_USAGE, r.stdout + r.stderr)
                self.assertIn("usage: postern %s" % args[0], r.stderr)
        self.assertFalse(os.path.exists(srv.spool), "a usage error started something")

    def test_default_config(self):
        if os.path.exists("/etc/postern/postern.conf"):
            self.skipTest("/etc/postern/postern.conf exists here")
        for args in (["check"], ["queue", "list"], ["grants"], ["serve"]):
            with self.subTest(args=args):
                r = run_postern(args)
                self.assertEqual(r.returncode, EX_CONFIG, r.stderr)
                self.assertIn("/etc/postern/postern.conf", r.stderr)

    def test_config_option_spellings(self):
        srv = self.server(start=False)
        for args in (["check", "-c", srv.conf], ["check", "-c" + srv.conf],
                     ["check", "--config", srv.conf], ["check", "--config=" + srv.conf],
                     ["check", "-c", "/nonexistent.conf", "-c", srv.conf]):   # last wins
            with self.subTest(args=args):
                r = run_postern(args)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn("spool = %s" % srv.spool, r.stdout)

    def test_check_errors_exit_78(self):
        srv = self.server(start=False)
        path = os.path.join(srv.dir, "bad.conf")
        with open(path, "w") as f:
            f.write("frobnicate = 1\n")
        r = run_postern(["check", "-c", path])
        self.assertEqual(r.returncode, EX_CONFIG, r.stderr)
        r = run_postern(["user", "add", "-c", path, "carol"], stdin="pw\n")
        self.assertEqual(r.returncode, EX_CONFIG, r.stderr)
        r = run_postern(["queue", "-c", path])
        self.assertEqual(r.returncode, EX_CONFIG, r.stderr)
        r = run_postern(["grants", "-c", path])
        self.assertEqual(r.returncode, EX_CONFIG, r.stderr)


class CompatNames(PosternTestCase):
    """postern run as mailq or newaliases (a link of that name), as the
    sendmail link already works."""

    def setUp(self):
        self.bindir = tempfile.mkdtemp(prefix="postern-links-")
        self.addCleanup(shutil.rmtree, self.bindir, True)
        for name in ("mailq", "newaliases"):
            os.symlink(POSTERN, os.path.join(self.bindir, name))

    def run_as(self, name, args, env=None):
        e = dict(os.environ)
        e.pop("POSTERN_CONF", None)
        e.update(env or {})
        return subprocess.run([os.path.join(self.bindir, name)] + list(args),
                              capture_output=True, text=True, timeout=30, env=e)

    def test_mailq_is_queue_list(self):
        srv = self.server()
        r = self.run_as("mailq", ["-C", srv.conf])
        self.assertEqual((r.returncode, r.stdout), (0, "Mail queue is empty\n"), r.stderr)
        r = self.run_as("mailq", [], env={"POSTERN_CONF": srv.conf})
        self.assertEqual((r.returncode, r.stdout), (0, "Mail queue is empty\n"), r.stderr)
        r = self.run_as("mailq", ["-v"])
        self.assertEqual(r.returncode, EX_USAGE)
        self.assertIn("usage: postern mailq [-C FILE]", r.stderr)

    def test_mailq_lists_a_message(self):
        srv = self.server()
        c = srv.smtp()
        c.sendmail("x@example.org", ["friend@example.net"], b"Subject: tok-mailq\r\n\r\nx\r\n")
        c.quit()
        deadline = time.time() + 10
        while True:
            q = run_postern(["queue", "-c", srv.conf, "list"])
            if "friend@example.net" in q.stdout or time.time() > deadline:
                break
            time.sleep(0.1)
        self.assertIn("friend@example.net", q.stdout, q.stderr)
        qid = q.stdout.split()[0].rstrip("!")
        r = self.run_as("mailq", ["-C" + srv.conf])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith(qid), r.stdout)
        self.assertIn("friend@example.net", r.stdout)
        self.assertIn("<x@example.org>", r.stdout)

    def aliases_server(self, text):
        path = os.path.join(tempfile.mkdtemp(prefix="postern-al-"), "aliases")
        self.addCleanup(shutil.rmtree, os.path.dirname(path), True)
        if text is not None:
            with open(path, "w") as f:
                f.write(text)
        return self.server(start=False, extra=["aliases = %s" % path]), path

    def test_newaliases_checks_the_file(self):
        srv, path = self.aliases_server("postmaster: alice\nteam: alice, bob\n")
        r = self.run_as("newaliases", ["-C", srv.conf])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "%s: 2 aliases\n" % path)
        with open(path, "w") as f:
            f.write("postmaster: alice\nbad: |/bin/sh\nteam alice\n")
        r = self.run_as("newaliases", [], env={"POSTERN_CONF": srv.conf})
        self.assertEqual(r.returncode, EX_CONFIG, r.stdout + r.stderr)
        self.assertRegex(r.stderr, r"(?m)^%s:2: " % re.escape(path))
        self.assertRegex(r.stderr, r"(?m)^%s:3: " % re.escape(path))
        self.assertEqual(r.stdout, "%s: 1 alias\n" % path)
        # sendmail -bi is newaliases
        r = run_postern(["sendmail", "-C", srv.conf, "-bi"])
        self.assertEqual(r.returncode, EX_CONFIG, r.stderr)
        self.assertRegex(r.stderr, r"(?m)^%s:2: " % re.escape(path))

    def test_newaliases_missing_file_or_none(self):
        srv, path = self.aliases_server(None)
        r = self.run_as("newaliases", ["-C", srv.conf])
        self.assertEqual(r.returncode, EX_CONFIG, r.stderr)
        self.assertIn(path, r.stderr)
        plain = self.server(start=False)
        r = self.run_as("newaliases", ["-C", plain.conf])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("no aliases file configured", r.stdout)
        r = self.run_as("newaliases", ["-C", os.path.join(plain.dir, "nope.conf")])
        self.assertEqual(r.returncode, EX_CONFIG, r.stderr)
