"""Start and stop `ldm-edit serve` for the page's browser and load tests (Scripts/ui/)."""
import json
import os
import re
import subprocess
import threading
import time
import urllib.error
import urllib.request


class Server:
    """`ldm-edit serve --port 0` in a child process; `url`, `base`, `token` and `pid` once it listens."""

    def __init__(self, binary, models, threads=2, extra=()):
        self.process = subprocess.Popen(
            [binary, "serve", "--port", "0", "--models", models, "--threads", str(threads), *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.log = []
        threading.Thread(target=self._drain, daemon=True).start()
        deadline = time.time() + 120
        line = ""
        while time.time() < deadline:
            line = self.process.stdout.readline()
            if line or self.process.poll() is not None:
                break
        match = re.search(r"(http://[^ ]+/\?token=([0-9a-f]+))", line)
        if not match:
            self.stop()
            raise RuntimeError(f"ldm-edit serve printed no URL (got {line!r}); its log:\n" + "".join(self.log))
        self.url, self.token = match.group(1), match.group(2)
        self.base = self.url.split("/?")[0]
        self.pid = self.process.pid

    def _drain(self):
        for line in self.process.stderr:
            self.log.append(line)

    def request(self, method, path, body=None, headers=None, timeout=60):
        """JSON (or bytes for non-JSON replies) of an API call with the token; raises on an HTTP error."""
        all_headers = {"X-LDM-Token": self.token}
        all_headers.update(headers or {})
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        if isinstance(body, dict):
            all_headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=all_headers)
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            payload = reply.read()
            if reply.headers.get("Content-Type", "").startswith("application/json"):
                return json.loads(payload)
            return payload

    def rss_bytes(self):
        """Resident and peak resident memory of the server (VmRSS, VmHWM)."""
        with open(f"/proc/{self.pid}/status") as status:
            fields = dict(line.split(":", 1) for line in status if ":" in line)
        return int(fields["VmRSS"].split()[0]) * 1024, int(fields["VmHWM"].split()[0]) * 1024

    def alive(self):
        return self.process.poll() is None

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
