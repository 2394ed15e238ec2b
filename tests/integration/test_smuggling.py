"""Raw-socket dialogues: SMTP smuggling, line limits, NUL, pipelining.

The client is 127.0.0.1 (a local network, allowed to relay), so that a
smuggled "RCPT TO:<bob@example.net>" would be accepted if the server ever
read it as a command.
"""
import time

from harness import PosternTestCase

SMUGGLED = (b"MAIL FROM:<a@b.example>\r\n"
            b"RCPT TO:<bob@example.net>\r\n"
            b"DATA\r\n"
            b"Subject: smuggled tok-smuggled\r\n"
            b"\r\n"
            b"smuggled body\r\n")

# (name, the fake end of data)
FAKE_ENDS = [
    ("lf-dot-lf", b"\n.\n"),
    ("crlf-dot-lf", b"\r\n.\n"),
    ("lf-dot-crlf", b"\n.\r\n"),
    ("cr-dot-cr", b"\r.\r"),
    ("cr-dot-crlf", b"\r.\r\n"),
    ("crlf-dot-cr", b"\r\n.\r"),
    ("crlf-dot-cr-lf-as-text", b"\r\n.\rX\n"),
    ("lf-only-lines", b"line\nline\n.\n"),
]


class Smuggling(PosternTestCase):

    def setUp(self):
        self.srv = self.server()

    def open_data(self, source="127.0.0.1", rcpt=b"alice@mydomain.test"):
        r = self.srv.raw(source)
        self.addCleanup(r.close)
        self.assertEqual(r.reply()[0], 220)
        self.assertEqual(r.cmd("EHLO client.test")[0], 250)
        self.assertEqual(r.cmd("MAIL FROM:<sender@example.org>")[0], 250)
        self.assertEqual(r.cmd(b"RCPT TO:<" + rcpt + b">")[0], 250)
        code, text = r.cmd("DATA")
        self.assertEqual(code, 354, text)
        return r

    def smuggle(self, name, fake_end):
        r = self.open_data()
        body = (b"Subject: carrier tok-carrier-" + name.encode() + b"\r\n\r\nhello\r\n"
                + b"x" + fake_end + SMUGGLED + b"x" + fake_end + b"QUIT\r\n")
        r.send(body)
        # nothing may be answered in the middle of DATA
        early = r.replies_for(0.25)
        self.assertEqual(early, [], "%s: server replied before the real end of data" % name)
        r.send(b"\r\n.\r\n")
        try:
            replies = [r.reply(5)]
        except (TimeoutError, ConnectionError) as e:
            self.fail("%s: no reply after the real end of data: %s" % (name, e))
        replies += r.replies_for(0.3)       # anything more would be a second reply
        self.assertEqual(len(replies), 1,
                         "%s: expected exactly one reply after the real end, got %r"
                         % (name, replies))
        code, text = replies[0]
        self.assertEqual(code // 100, 5, "%s: %d %s" % (name, code, text))
        self.assertFalse(text.startswith("2"), text)
        if not r.closed:
            # the session goes on (or was closed after a 521): QUIT works
            code, _ = r.cmd("QUIT")
            self.assertEqual(code, 221)
        return code, text

    def check_nothing_smuggled(self):
        time.sleep(0.3)
        self.assertNoRemoteQueued(self.srv)
        self.assertEqual(self.srv.queue_ids(), [])
        self.assertEqual([m for m in self.srv.mails("alice").values()
                          if b"smuggled" in m or b"tok-carrier" in m], [])
        self.assertNotIn("example.net", self.srv.log())

    def test_fake_ends(self):
        for name, fake in FAKE_ENDS:
            with self.subTest(fake=name):
                self.smuggle(name, fake)
        self.check_nothing_smuggled()

    def test_fake_end_byte_by_byte(self):
        # same as above, but one byte per send(): the reader's state must
        # survive every split
        r = self.open_data()
        body = (b"Subject: tok-carrier-bytes\r\n\r\nx\n.\n" + SMUGGLED + b"y\r\n.\n" + SMUGGLED
                + b"z\n.\r\n" + SMUGGLED + b"w\r.\r" + SMUGGLED)
        for i in range(len(body)):
            r.send(body[i:i + 1])
        self.assertEqual(r.replies_for(0.3), [])
        for b in b"\r\n.\r\n":
            r.send(bytes([b]))
            time.sleep(0.002)
        replies = r.replies_for(1.0)
        self.assertEqual(len(replies), 1, replies)
        self.assertEqual(replies[0][0] // 100, 5, replies)
        self.check_nothing_smuggled()

    def test_real_end_split_across_sends(self):
        # a clean message whose "\r\n.\r\n" arrives in pieces is accepted once
        r = self.open_data()
        r.send(b"Subject: tok-split\r\n\r\nbody\r")
        time.sleep(0.05)
        r.send(b"\n.")
        time.sleep(0.05)
        self.assertEqual(r.replies_for(0.2), [])
        r.send(b"\r")
        time.sleep(0.05)
        r.send(b"\n")
        replies = r.replies_for(0.8)
        self.assertEqual(len(replies), 1, replies)
        self.assertEqual(replies[0][0], 250, replies)
        got = self.srv.wait_mails("alice", 1, match=b"tok-split")
        self.assertEqual(len(got), 1)
        self.assertTrue(got[0].endswith(b"Subject: tok-split\r\n\r\nbody\r\n"), got[0][-60:])

    def test_dot_stuffing_on_the_wire(self):
        r = self.open_data()
        r.send(b"Subject: tok-stuff\r\n\r\n..\r\n...x\r\n..\r\n.\r\n")
        code, text = r.reply()
        self.assertEqual(code, 250, text)
        got = self.srv.wait_mails("alice", 1, match=b"tok-stuff")
        self.assertEqual(len(got), 1)
        self.assertTrue(got[0].endswith(b"\r\n\r\n.\r\n..x\r\n.\r\n"), got[0][-40:])

    def test_data_line_limit(self):
        # 1000 octets incl. CRLF is fine; the transparency dot is not counted
        for name, line, ok in (("999", b"a" * 997, True),
                               ("1000", b"a" * 998, True),
                               ("1000+dot", b".." + b"a" * 997, True),
                               ("1001", b"a" * 999, False)):
            with self.subTest(line=name):
                r = self.open_data()
                r.send(b"Subject: tok-line-" + name.encode() + b"\r\n\r\n" + line + b"\r\n.\r\n")
                code, text = r.reply()
                if ok:
                    self.assertEqual(code, 250, "%s: %s" % (name, text))
                else:
                    self.assertEqual(code // 100, 5, "%s: %s" % (name, text))
                r.cmd("QUIT")

    # --- command lines -------------------------------------------------------
    def greeted(self, source="127.0.0.1"):
        r = self.srv.raw(source)
        self.addCleanup(r.close)
        self.assertEqual(r.reply()[0], 220)
        return r

    def test_command_line_limit(self):
        r = self.greeted()
        self.assertEqual(r.cmd("EHLO client.test")[0], 250)
        for total, ok in ((511, True), (512, True), (513, False), (2000, False), (70000, False)):
            with self.subTest(length=total):
                line = b"NOOP " + b"x" * (total - 5 - 2)
                self.assertEqual(len(line) + 2, total)
                code, text = r.cmd(line)
                if ok:
                    self.assertEqual(code, 250, "%d octets: %s" % (total, text))
                else:
                    self.assertEqual(code, 500, "%d octets: %s" % (total, text))
                    self.assertTrue(text.startswith("5.5.2"), text)
                # exactly one reply per line: nothing else pending
                self.assertEqual(r.replies_for(0.1), [])
                # the session goes on after the long line
                self.assertEqual(r.cmd("NOOP")[0], 250)

    def test_long_mail_from_line(self):
        r = self.greeted()
        r.cmd("EHLO client.test")
        addr = b"a" * 64 + b"@" + b"b" * 500 + b".example"
        code, text = r.cmd(b"MAIL FROM:<" + addr + b">")
        self.assertEqual(code, 500, text)
        # the tail of the long line must not be taken as a command
        line = b"MAIL FROM:<a@b.example> " + b"x" * 600 + b" RSET"
        code, text = r.cmd(line)
        self.assertEqual(code, 500, text)
        self.assertEqual(r.replies_for(0.2), [])
        self.assertEqual(r.cmd("MAIL FROM:<a@b.example>")[0], 250)

    def test_nul_in_command(self):
        for line in (b"NOOP\x00", b"MAIL FROM:<a\x00b@example.org>", b"\x00EHLO x",
                     b"EHLO x\x00\r\nMAIL FROM:<a@b.example>"):
            with self.subTest(line=line):
                r = self.greeted()
                r.send(line + b"\r\n")
                replies = r.replies_for(0.5)
                self.assertTrue(replies or r.closed, "no reply to %r" % line)
                if replies:
                    self.assertEqual(replies[0][0] // 100, 5, replies)
                    self.assertFalse([x for x in replies if x[0] == 250 and "Ok" in x[1]
                                      and line.startswith(b"MAIL")], replies)
                r.close()
        # still alive
        r = self.greeted()
        self.assertEqual(r.cmd("NOOP")[0], 250)

    def test_bare_lf_command(self):
        r = self.greeted()
        r.send(b"EHLO client.test\n")
        replies = r.replies_for(0.5)
        # a bare LF ends no command: either the server waits for CRLF or
        # it refuses; it never answers as if EHLO was well formed
        self.assertFalse([x for x in replies if x[0] == 250], replies)

    def test_commands_pipelined_behind_data(self):
        r = self.greeted()
        self.assertEqual(r.cmd("EHLO client.test")[0], 250)
        self.assertEqual(r.cmd("MAIL FROM:<sender@example.org>")[0], 250)
        self.assertEqual(r.cmd("RCPT TO:<alice@mydomain.test>")[0], 250)
        r.send(b"DATA\r\nSubject: tok-behind\r\n\r\nbody\r\n.\r\n"
               b"MAIL FROM:<a@b.example>\r\nRCPT TO:<bob@example.net>\r\nDATA\r\n")
        replies = r.replies_for(1.5)
        closed = r.wait_closed(2)
        codes = [c for c, _ in replies]
        self.assertTrue(any(c == 554 and t.startswith("5.5.0") for c, t in replies),
                        "no 554 5.5.0 in %r" % replies)
        self.assertNotIn(250, codes, replies)
        self.assertNotIn(354, codes, replies)
        self.assertTrue(closed, "connection not closed after 554 5.5.0")
        time.sleep(0.3)
        self.assertEqual(self.srv.queue_ids(), [])
        self.assertEqual(self.srv.mails("alice"), {})

    def test_proper_pipelining(self):
        r = self.greeted()
        code, text = r.cmd("EHLO client.test")
        self.assertIn("PIPELINING", text)
        r.send(b"MAIL FROM:<sender@example.org>\r\nRCPT TO:<alice@mydomain.test>\r\n"
               b"RCPT TO:<nobody@mydomain.test>\r\nRCPT TO:<bob@mydomain.test>\r\nDATA\r\n")
        got = [r.reply() for _ in range(5)]
        self.assertEqual([c for c, _ in got], [250, 250, 550, 250, 354], got)
        r.send(b"Subject: tok-pipe\r\n\r\npipelined\r\n.\r\n")
        code, text = r.reply()
        self.assertEqual(code, 250, text)
        # a whole transaction in one send (RSET/MAIL/RCPT/DATA) and QUIT after the data
        r.send(b"RSET\r\nMAIL FROM:<s@example.org>\r\nRCPT TO:<alice@mydomain.test>\r\nDATA\r\n")
        got = [r.reply() for _ in range(4)]
        self.assertEqual([c for c, _ in got], [250, 250, 250, 354], got)
        r.send(b"Subject: tok-pipe2\r\n\r\nx\r\n.\r\nQUIT\r\n")
        got = [r.reply() for _ in range(2)]
        self.assertEqual([c for c, _ in got], [250, 221], got)
        self.assertEqual(len(self.srv.wait_mails("alice", 2, match=b"tok-pipe")), 2)
        self.assertEqual(len(self.srv.wait_mails("bob", 1, match=b"tok-pipe")), 1)

    def test_pipelined_group_with_relay_denied(self):
        r = self.greeted("127.0.0.2")
        r.cmd("EHLO client.test")
        r.send(b"MAIL FROM:<s@example.org>\r\nRCPT TO:<bob@example.net>\r\nDATA\r\n")
        got = [r.reply() for _ in range(3)]
        self.assertEqual(got[0][0], 250)
        self.assertEqual(got[1], (554, "5.7.1 Relay access denied"))
        self.assertIn(got[2][0], (503, 554), got)
        self.assertEqual(r.cmd("QUIT")[0], 221)
        time.sleep(0.2)
        self.assertEqual(self.srv.queue_ids(), [])

    def test_too_many_errors(self):
        r = self.greeted()
        codes = []
        try:
            for _ in range(200):
                r.send(b"BOGUS\r\n")
                codes.append(r.reply(2)[0])
        except (ConnectionError, OSError, TimeoutError):
            pass
        self.assertLess(len(codes), 200, "server never gave up on an erroring client")
        self.assertTrue(all(c // 100 in (4, 5) for c in codes), codes)
