#!/usr/bin/env python3
"""Load on loopback: N concurrent clients upload, submit, poll and download against one `ldm-edit serve`.

Each client loops until the time is up: upload a photo and a mask, submit an inpainting job (a few steps on a
tiny model), poll it every 0.2 s until it ends, fetch the result; every third client also keeps asking for
/api/info and /api/queue. Recorded: requests, errors (any non-2xx, any exception), latency percentiles, jobs
done, the server's resident memory (sampled every 0.5 s, its value every tenth of the run, and its peak VmHWM), and whether the jobs ran in
submission order (`sequence` against `run_index`). Prints one JSON object; exits 1 when anything failed.

    python Scripts/ui/load_test.py --binary .build/release/ldm-edit --clients 20 --seconds 60
"""
import argparse
import io
import json
import os
import sys
import threading
import time
import urllib.error

from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server import Server  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def png(image):
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/release/ldm-edit"))
    parser.add_argument("--models", default=os.path.join(ROOT, "Tests/LDMModelsTests/Fixtures/models"))
    parser.add_argument("--model-name", default="conv_inp_folder")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--size", type=int, default=128, help="side of the photo each client uploads")
    args = parser.parse_args()

    photo = Image.open(os.path.join(ROOT, "Samples/chelsea.png")).convert("RGB").resize((args.size, args.size * 3 // 4))
    mask = Image.new("L", photo.size, 0)
    mask.paste(255, (photo.size[0] // 4, photo.size[1] // 4, photo.size[0] // 2, photo.size[1] // 2))
    photo_bytes, mask_bytes = png(photo), png(mask)

    server = Server(args.binary, args.models)
    lock = threading.Lock()
    stats = {"requests": 0, "errors": 0, "jobs_done": 0, "jobs_failed": 0, "latencies": [], "error_samples": []}
    jobs = {}  # id → final JSON
    memory = {"max_rss": 0, "timeline": []}
    stop = time.time() + args.seconds

    models = server.request("GET", "/api/models")["models"]
    model = next(m["id"] for m in models if m["name"] == args.model_name)

    def call(method, path, body=None, headers=None):
        started = time.time()
        try:
            reply = server.request(method, path, body, headers)
            with lock:
                stats["requests"] += 1
                stats["latencies"].append(time.time() - started)
            return reply
        except (urllib.error.URLError, OSError, ValueError) as error:
            with lock:
                stats["requests"] += 1
                stats["errors"] += 1
                if len(stats["error_samples"]) < 5:
                    stats["error_samples"].append(f"{method} {path}: {error}")
            return None

    def client(number):
        while time.time() < stop:
            image = call("POST", f"/api/images?name=client{number}.png", photo_bytes)
            masked = call("POST", "/api/images?name=mask.png", mask_bytes)
            if not image or not masked:
                continue
            job = call("POST", "/api/jobs", {"task": "inpaint", "model": model, "image": image["id"], "mask": masked["id"],
                                             "steps": args.steps, "seed": number})
            if not job:
                continue
            state = job
            while state and state["state"] in ("queued", "running"):
                time.sleep(0.2)
                state = call("GET", f"/api/jobs/{job['id']}") or state
                if number % 3 == 0:
                    call("GET", "/api/info")
                    call("GET", "/api/queue")
            with lock:
                jobs[job["id"]] = state
                if state["state"] == "done":
                    stats["jobs_done"] += 1
                else:
                    stats["jobs_failed"] += 1
            if state["state"] == "done":
                call("GET", f"/api/images/{state['result']['id']}/file")

    def sample_memory():
        began = time.time()
        next_mark = began
        while time.time() < stop + 5:
            try:
                rss, _ = server.rss_bytes()
                memory["max_rss"] = max(memory["max_rss"], rss)
                if time.time() >= next_mark:  # the resident size every tenth of the run: flat when memory is bounded
                    memory["timeline"].append(round(rss / 2**20))
                    next_mark += args.seconds / 10
            except (OSError, KeyError):
                pass
            time.sleep(0.5)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
    sampler = threading.Thread(target=sample_memory, daemon=True)
    sampler.start()
    began = time.time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.time() - began
    alive = server.alive()
    _, peak = server.rss_bytes() if alive else (0, 0)
    server.stop()

    finished = [j for j in jobs.values() if j.get("run_index")]
    by_submission = sorted(finished, key=lambda j: j["sequence"])
    fifo = all(a["run_index"] < b["run_index"] for a, b in zip(by_submission, by_submission[1:]))
    latencies = sorted(stats["latencies"])
    pick = lambda q: round(latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000, 1) if latencies else None
    seconds = [j["seconds"] for j in jobs.values() if j["state"] == "done" and "seconds" in j]
    report = {
        "clients": args.clients, "seconds": round(elapsed, 1), "requests": stats["requests"], "errors": stats["errors"],
        "requests_per_second": round(stats["requests"] / elapsed, 1), "latency_ms_p50": pick(0.5), "latency_ms_p95": pick(0.95),
        "latency_ms_max": pick(1.0), "jobs_done": stats["jobs_done"], "jobs_not_done": stats["jobs_failed"],
        "job_seconds_mean": round(sum(seconds) / len(seconds), 2) if seconds else None, "fifo_order_kept": fifo,
        "server_alive": alive, "max_rss_mib": round(memory["max_rss"] / 2**20, 1), "rss_mib_timeline": memory["timeline"], "peak_rss_mib": round(peak / 2**20, 1),
        "error_samples": stats["error_samples"],
    }
    print(json.dumps(report))
    if stats["errors"] or not alive or not fifo or stats["jobs_failed"] or not stats["jobs_done"]:
        print("load test FAILED", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
