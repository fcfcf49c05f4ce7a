"""Shared pieces of the reliability scripts: start `dlcm serve`, raw HTTP on loopback, /metrics
gauges, RSS from /proc. Standard library only, so the scripts run on a bare machine."""
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TINY = os.path.join(ROOT, "Tests/DLCMServerTests/Resources/tiny-served")
SHIPPED = os.path.join(ROOT, "weights/dlcm-10m-debian")


def add_server_args(ap, model=TINY):
    ap.add_argument("--binary", default=os.path.join(ROOT, ".build/release/dlcm"),
                    help="the dlcm binary (default: the release build)")
    ap.add_argument("--model", default=model, help=f"checkpoint directory (default {os.path.relpath(model, ROOT)})")
    ap.add_argument("--threads", type=int, default=1, help="compute threads for the server (default 1)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`dlcm serve` on a free loopback port; stopped (SIGTERM, then SIGKILL) on exit."""

    def __init__(self, args, *flags):
        self.port = free_port()
        cmd = [args.binary, "serve", "--model", args.model, "--threads", str(args.threads),
               "--port", str(self.port), *map(str, flags)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"server exited: {' '.join(cmd)}")
            if "on http://" in line:
                break
        else:
            raise RuntimeError("server did not start in 60 s")
        self.pid = self.proc.pid
        # Keep reading its log: a pipe nobody reads fills (64 KiB) and the server's next log
        # write blocks, which stalls whichever of its threads is logging.
        self.log_tail = []
        threading.Thread(target=self._drain_log, daemon=True).start()
        print(f"server: {' '.join(os.path.relpath(c, ROOT) if c.startswith(ROOT) else c for c in cmd)} (pid {self.pid})", flush=True)

    def _drain_log(self):
        for line in self.proc.stdout:
            self.log_tail = (self.log_tail + [line])[-50:]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def rss_kib(self):
        return rss_kib(self.pid)

    def alive(self):
        return self.proc.poll() is None


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def connect(port, timeout=30):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def request_bytes(method, path, body=None, headers=()):
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    if body is not None:
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    for k, v in headers:
        head += f"{k}: {v}\r\n"
    return (head + "\r\n").encode() + (body or b"")


class Reader:
    """Reads HTTP/1.1 responses (Content-Length or chunked) from a socket."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("connection closed")
        self.buf += data

    def line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def exactly(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def head(self):
        status = int(self.line().split(b" ")[1])
        headers = {}
        while True:
            line = self.line()
            if not line:
                return status, headers
            k, v = line.split(b":", 1)
            headers[k.decode().lower()] = v.decode().strip()

    def chunks(self):
        """Yields the chunks of a chunked body."""
        while True:
            size = int(self.line().split(b";")[0], 16)
            if size == 0:
                while self.line():
                    pass
                return
            data = self.exactly(size)
            self.line()
            yield data

    def response(self):
        status, headers = self.head()
        if headers.get("transfer-encoding") == "chunked":
            body = b"".join(self.chunks())
        else:
            body = self.exactly(int(headers.get("content-length", "0")))
        return status, headers, body


def call(port, method, path, body=None, timeout=60):
    """One request on a fresh connection: (status, headers, body bytes)."""
    with connect(port, timeout) as s:
        s.sendall(request_bytes(method, path, body))
        return Reader(s).response()


def sse_text(body):
    """Concatenated choices text of an SSE body (choice 0), and whether [DONE] ended it."""
    text, done = [], False
    for block in body.decode().split("\n\n"):
        for line in block.split("\n"):
            if line.startswith("data: "):
                data = line[6:]
                if data == "[DONE]":
                    done = True
                else:
                    event = json.loads(data)
                    for choice in event.get("choices", []):
                        if choice.get("index", 0) == 0:
                            text.append(choice.get("text", ""))
    return "".join(text), done


def metrics(port):
    """The /metrics samples without labels, by name."""
    status, _, body = call(port, "GET", "/metrics")
    assert status == 200, status
    out = {}
    for line in body.decode().splitlines():
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*) ([-+0-9.eEinfNa]+)$", line)
        if m:
            out[m.group(1)] = float(m.group(2))
    return out


def wait_idle(port, timeout=30):
    """Seconds until the engine's running and waiting gauges are both 0 (None if never)."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        m = metrics(port)
        if m.get("dlcm_running_sequences", 1) == 0 and m.get("dlcm_queue_length", 1) == 0:
            return time.perf_counter() - t0
        time.sleep(0.05)
    return None


def pct(values, p):
    values = sorted(values)
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def ms(seconds):
    return f"{seconds * 1000:.1f} ms"


def verdict(ok, what):
    print(f"{'PASS' if ok else 'FAIL'}: {what}", flush=True)
    return ok


def finish(results):
    sys.exit(0 if all(results) else 1)
