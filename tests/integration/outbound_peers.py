"""outbound_peers - remote peers for the outbound tests, loopback only.

PySink: a threaded SMTP server on 127.0.0.X that records every byte of
DATA as received (still dot-stuffed) and can answer 4xx/5xx by script.
SmtpSink: Postfix's smtp-sink (-d dump files).
Dnsmasq: a DNS server on a loopback port with our MX/A records.
Nothing here binds or connects to anything but 127.0.0.0/8.
"""
import os
import shutil
import socket
import subprocess
import threading
import time

from harness import free_port


def _loopback(host):
    assert host.startswith("127."), host


class LoopbackPeer:
    """What every test peer shares: a listening socket on a loopback
    address, an accept loop in a thread, and a message list to wait on.
    Subclasses set host, port, lock, messages and define _session(sock);
    threaded = False serves one connection at a time."""

    threaded = True
    sock = None

    def start(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((self.host, self.port))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.running = False
        if self.sock:
            self.thread.join(2)
            self.sock.close()
            self.sock = None

    def _serve(self):
        while self.running:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            if self.threaded:
                threading.Thread(target=self._session, args=(c,), daemon=True).start()
            else:
                self._session(c)

    def wait_messages(self, n, timeout=10.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                if len(self.messages) >= n:
                    break
            time.sleep(0.05)
        with self.lock:
            return list(self.messages)


class PySink(LoopbackPeer):
    """rcpt_reply(n_txn, addr) and data_reply(n_txn) return a reply line
    (without CRLF) or None for the default 250."""

    def __init__(self, host="127.0.0.6", port=None, rcpt_reply=None,
                 data_reply=None, ehlo=True, pipelining=True, size=None):
        _loopback(host)
        self.host = host
        self.port = port or free_port(host)
        self.rcpt_reply = rcpt_reply or (lambda n, a: None)
        self.data_reply = data_reply or (lambda n: None)
        self.ehlo = ehlo
        self.pipelining = pipelining
        self.size = size
        self.messages = []      # dicts: from, rcpts, raw (stuffed data incl. final dot)
        self.transactions = 0
        self.connections = 0
        self.commands = []
        self.sock = None
        self.lock = threading.Lock()

    def _session(self, c):
        with self.lock:
            self.connections += 1
        f = c.makefile("rb")
        c.settimeout(10)

        def send(line):
            c.sendall(line.encode() + b"\r\n")
        try:
            send("220 sink.example.net ESMTP")
            mail, rcpts = None, []
            while True:
                line = f.readline()
                if not line:
                    return
                cmd = line.rstrip(b"\r\n").decode("latin-1")
                with self.lock:
                    self.commands.append(cmd)
                u = cmd.upper()
                if u.startswith("EHLO"):
                    if not self.ehlo:
                        send("502 5.5.2 no EHLO here")
                        continue
                    ext = ["250-sink.example.net"]
                    if self.pipelining:
                        ext.append("250-PIPELINING")
                    if self.size:
                        ext.append("250-SIZE %d" % self.size)
                    ext.append("250 8BITMIME")
                    send("\r\n".join(ext))
                elif u.startswith("HELO"):
                    send("250 sink.example.net")
                elif u.startswith("MAIL FROM:"):
                    mail, rcpts = cmd[10:], []
                    send("250 2.1.0 ok")
                elif u.startswith("RCPT TO:"):
                    addr = cmd[8:].strip("<>")
                    r = self.rcpt_reply(self.transactions, addr)
                    if r is None:
                        rcpts.append(addr)
                        send("250 2.1.5 ok")
                    else:
                        send(r)
                elif u == "DATA":
                    if not rcpts:
                        send("554 5.5.1 no valid recipients")
                        continue
                    send("354 go ahead")
                    raw = b""
                    while True:
                        l = f.readline()
                        if not l:
                            return
                        raw += l
                        if l == b".\r\n":
                            break
                    r = self.data_reply(self.transactions)
                    with self.lock:
                        self.transactions += 1
                        if r is None:
                            self.messages.append({"from": mail, "rcpts": rcpts, "raw": raw})
                    send(r or "250 2.0.0 queued")
                elif u == "RSET":
                    mail, rcpts = None, []
                    send("250 ok")
                elif u == "QUIT":
                    send("221 bye")
                    return
                else:
                    send("502 5.5.1 unknown")
        except OSError:
            pass
        finally:
            c.close()


SMTP_SINK = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
DNSMASQ = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"


class SmtpSink:
    """Postfix's smtp-sink writing one file per message into dir."""

    def __init__(self, dump_dir, host="127.0.0.5", port=None):
        _loopback(host)
        self.host, self.port, self.dir = host, port or free_port(host), dump_dir
        self.proc = None

    def start(self):
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o777)
        args = [SMTP_SINK]
        if os.geteuid() == 0:
            args += ["-u", "postern"]
        args += ["-d", os.path.join(self.dir, "%M."), "%s:%d" % (self.host, self.port), "100"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 5
        while time.time() < deadline:
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5) as s:
                    s.recv(100)
                    s.sendall(b"QUIT\r\n")
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("smtp-sink did not start")

    def files(self):
        out = []
        for n in sorted(os.listdir(self.dir)):
            with open(os.path.join(self.dir, n), "rb") as f:
                out.append(f.read())
        return out

    def wait_files(self, n, timeout=10.0):
        deadline = time.time() + timeout
        while time.time() < deadline and len(self.files()) < n:
            time.sleep(0.05)
        return self.files()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Dnsmasq:
    """dnsmasq on 127.0.0.1:port with only the records given."""

    def __init__(self, records):
        self.port = free_port("127.0.0.1")
        self.records = list(records)
        self.proc = None

    def start(self):
        args = [DNSMASQ, "--no-daemon", "--port=%d" % self.port,
                "--listen-address=127.0.0.1", "--bind-interfaces",
                "--no-resolv", "--no-hosts", "--conf-file=/dev/null",
                "--pid-file=", "--no-negcache"] + self.records
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # Ready when it answers a UDP query (any answer will do).
        q = (b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
             b"\x07example\x03net\x00\x00\x0f\x00\x01")
        deadline = time.time() + 5
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("dnsmasq exited: %r" % self.proc.stderr.read())
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.settimeout(0.2)
                try:
                    s.sendto(q, ("127.0.0.1", self.port))
                    s.recv(512)
                    return self
                except OSError:
                    time.sleep(0.05)
        raise RuntimeError("dnsmasq did not answer")

    @property
    def server(self):
        return "127.0.0.1:%d" % self.port

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
