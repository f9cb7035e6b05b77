#!/usr/bin/env python3
"""channeld's benchmarks: started by tools/bench/run (see README.md beside this file).

Starts the fake LINE platform and channeld on loopback, runs every benchmark, stops what it
started, prints one table (name, rate, p50/p99/p999 latency, peak RSS, ratio to the baseline
measured in the same run, target) and writes it as JSON. Figures are printed, never asserted.
"""

import argparse
import datetime
import json
import math
import os
import platform
import random
import re
import selectors
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import webhooks  # noqa: E402

# --------------------------------------------------------------------------------------------
# Processes


class Child:
    """A server started by us: waits for its one ready line on stdout, logs stderr to a file."""

    def __init__(self, name, argv, ready_prefix, log_path):
        self.name, self.argv, self.ready_prefix, self.log_path = name, argv, ready_prefix, log_path
        self.proc = None
        self.ready = {}
        self.startup_s = None
        self.env = None  # None: ours

    def start(self, timeout=60):
        log = open(self.log_path, "ab")
        started = time.monotonic()
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=log,
                                     stdin=subprocess.DEVNULL, env=self.env)
        log.close()
        selector = selectors.DefaultSelector()
        selector.register(self.proc.stdout, selectors.EVENT_READ)
        line = b""
        while not line.endswith(b"\n"):
            left = timeout - (time.monotonic() - started)
            if left <= 0 or not selector.select(left):
                self.kill()
                raise RuntimeError(f"{self.name} did not get ready in {timeout}s; see {self.log_path}")
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            if not chunk:
                raise RuntimeError(f"{self.name} exited ({self.proc.wait()}); see {self.log_path}")
            line += chunk
        self.startup_s = time.monotonic() - started
        text = line.decode().strip()
        if not text.startswith(self.ready_prefix):
            raise RuntimeError(f"{self.name} printed {text!r}")
        self.ready = dict(re.findall(r"(\w+)=(\S+)", text))
        self.ready["line"] = text
        return self

    @property
    def pid(self):
        return self.proc.pid

    def stop(self, timeout=30):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def proc_status_mb(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def reset_peak_rss(pid):
    """Resets VmHWM (Linux >= 4.0), so each benchmark reports its own peak."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class ServerLog:
    """channeld's JSON log lines written since mark()."""

    # channeld writes its info lines in batches, within 5 ms of logging them: waiting this long
    # first lets the lines of a load that just ended reach the file.
    SETTLE_SECONDS = 0.1

    def __init__(self, path):
        self.path = path
        self.offset = 0

    def mark(self):
        time.sleep(self.SETTLE_SECONDS)
        self.offset = os.path.getsize(self.path)

    def lines(self):
        time.sleep(self.SETTLE_SECONDS)
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        for raw in data.splitlines():
            try:
                yield json.loads(raw)
            except ValueError:
                continue

    def webhook_summary(self):
        statuses, stored, duplicates = {}, 0, 0
        for line in self.lines():
            if line.get("event") != "webhook":
                continue
            status = str(int(line.get("status", 0)))
            statuses[status] = statuses.get(status, 0) + 1
            stored += int(line.get("stored", 0) or 0)
            duplicates += int(line.get("duplicates", 0) or 0)
        return {"statuses": statuses, "stored": stored, "duplicates": duplicates}

    def rpc_summary(self):
        out = {}
        for line in self.lines():
            if line.get("event") != "rpc":
                continue
            key = f'{line.get("method")}:{line.get("code", "OK")}'
            out[key] = out.get(key, 0) + 1
        return out


class ServerLogs:
    """Several replicas' logs read as one (the same methods as ServerLog, counts added up)."""

    def __init__(self, logs):
        self.logs = logs

    def mark(self):
        for log in self.logs:
            log.mark()

    def webhook_summary(self):
        out = {"statuses": {}, "stored": 0, "duplicates": 0}
        for log in self.logs:
            one = log.webhook_summary()
            for status, count in one["statuses"].items():
                out["statuses"][status] = out["statuses"].get(status, 0) + count
            out["stored"] += one["stored"]
            out["duplicates"] += one["duplicates"]
        return out

    def rpc_summary(self):
        out = {}
        for log in self.logs:
            for key, count in log.rpc_summary().items():
                out[key] = out.get(key, 0) + count
        return out


CLK_TCK = os.sysconf("SC_CLK_TCK")


def machine_busy_s():
    """CPU seconds the whole machine has spent busy (all cores)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def process_cpu_s(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return 0.0
    rest = data[data.rindex(")") + 2:].split()
    return (int(rest[11]) + int(rest[12])) / CLK_TCK


def thread_schedstat(pids, name):
    """Summed over the threads named `name` of `pids` (/proc/<pid>/task/*/schedstat): seconds
    on a CPU and seconds runnable but waiting for one; None when there is no such thread."""
    found, run_s, wait_s = False, 0.0, 0.0
    for pid in pids:
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{pid}/task/{tid}/comm") as f:
                    if f.read().strip() != name:
                        continue
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    fields = f.read().split()
            except OSError:
                continue
            if len(fields) < 2:
                continue
            found = True
            run_s += int(fields[0]) / 1e9
            wait_s += int(fields[1]) / 1e9
    return (run_s, wait_s) if found else None


def proc_io(pid):
    """/proc/<pid>/io: bytes the process asked to write (wchar) and sent to storage."""
    out = {}
    try:
        with open(f"/proc/{pid}/io") as f:
            for line in f:
                key, value = line.split(":")
                out[key] = int(value)
    except OSError:
        pass
    return out


def device_sectors_written(paths):
    """Sectors (512 B) the block devices holding `paths` (each device once) have written
    since boot, by every process, or None if the kernel does not say for one of them
    (/sys/dev/block/MAJ:MIN/stat; a tmpfs or overlay has no such device)."""
    total = 0
    try:
        for dev in {os.stat(path).st_dev for path in paths}:
            with open(f"/sys/dev/block/{os.major(dev)}:{os.minor(dev)}/stat") as f:
                total += int(f.read().split()[6])
    except (OSError, IndexError, ValueError):
        return None
    return total


def own_children_cpu_s():
    import resource
    total = 0.0
    for who in (resource.RUSAGE_CHILDREN, resource.RUSAGE_SELF):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


# channeld's SQLite commit thread (storage/sqlite/commit_queue.h names it).
COMMIT_THREAD = "sqlite-commit"


class Span:
    """One benchmark's window: channeld's peak RSS (VmHWM reset at the start), the CPU channeld
    used, and the CPU that processes other than ours used meanwhile (another engineer's build
    on the same 2 cores skews every figure: the ratios absorb slow drift, not bursts)."""

    def __init__(self, bench, pids=None, label="channeld", disk_paths=None):
        """`pids`, `label`: the server under load when it is not channeld (the SDK peer); its
        figures then stand in the "channeld_*" fields. `disk_paths`: files on the disks whose
        writes count (`disk_bytes`); the page cache is written out at both ends, so that what
        the run left dirty counts and what came before it does not."""
        self.bench = bench
        self.disk_paths = disk_paths
        self.disk_sectors = None
        self.disk_bytes = None
        self.rss = None
        self.server_pids = pids
        self.label = label
        # The seconds the load ran, when the load tool says (wrk's clock): the span also holds
        # its start-up (reading a request file), when the server sits idle.
        self.load_s = None

    def _servers(self):
        return [c.pid for c in self.bench.children if c.proc and c.proc.poll() is None]

    @staticmethod
    def _io(pids):
        total = {}
        for pid in pids:
            for key, value in proc_io(pid).items():
                total[key] = total.get(key, 0) + value
        return total

    def __enter__(self):
        # Every channeld replica under load; with PostgreSQL, its processes too (they are not
        # our children, and would otherwise count as other processes' CPU).
        self.pids = self.server_pids or [c.pid for c in self.bench.targets()]
        # First, so that writing out what came before takes none of the span's time or CPU.
        if self.disk_paths:
            os.sync()
            self.disk_sectors = device_sectors_written(self.disk_paths)
        for pid in self.pids:
            reset_peak_rss(pid)
        self.wall = time.monotonic()
        self.busy = machine_busy_s()
        self.channeld_cpu = sum(process_cpu_s(p) for p in self.pids)
        self.pg = {p: process_cpu_s(p) for p in self.bench.postgres_pids()}
        self.ours = sum(process_cpu_s(p) for p in self._servers()) + own_children_cpu_s()
        self.io = self._io(self.pids)
        self.pg_io = self._io(self.pg)
        self.committer = thread_schedstat(self.pids, COMMIT_THREAD)
        return self

    def __exit__(self, *exc):
        self.wall = time.monotonic() - self.wall
        self.busy = machine_busy_s() - self.busy
        self.channeld_cpu = sum(process_cpu_s(p) for p in self.pids) - self.channeld_cpu
        pg_now = self.bench.postgres_pids()
        # Backends that exited meanwhile are missed; new ones count from their start.
        self.pg_cpu = sum(process_cpu_s(p) - self.pg.get(p, 0.0) for p in pg_now)
        self.ours = sum(process_cpu_s(p) for p in self._servers()) + own_children_cpu_s() - \
            self.ours + self.pg_cpu
        self.rss = max((proc_status_mb(p, "VmHWM") or 0.0 for p in self.pids), default=None)
        after = self._io(self.pids)
        self.io = {k: after[k] - self.io.get(k, 0) for k in after}
        pg_after = self._io(pg_now)
        self.pg_io = {k: pg_after[k] - self.pg_io.get(k, 0) for k in pg_after} if pg_now else {}
        committer = thread_schedstat(self.pids, COMMIT_THREAD)
        self.committer = None if committer is None or self.committer is None else (
            committer[0] - self.committer[0], committer[1] - self.committer[1])
        if self.disk_sectors is not None:
            os.sync()
            after = device_sectors_written(self.disk_paths)
            if after is not None:
                self.disk_bytes = (after - self.disk_sectors) * 512
        return False

    def cpu(self):
        wall = max(self.wall, 1e-6)
        # The server's cores (channeld_cores, postgres_cores) over the time it was under load;
        # the others (ours, machine, foreign) over the whole span, as they also count wrk's
        # start-up.
        load = max(self.load_s or self.wall, 1e-6)
        out = {"wall_s": round(self.wall, 2),
               "load_s": round(load, 2),
               "channeld_cores": round(self.channeld_cpu / load, 2),
               "ours_cores": round(self.ours / wall, 2),
               "machine_cores": round(self.busy / wall, 2),
               "foreign_cores": round(max(0.0, self.busy - self.ours) / wall, 2),
               "channeld_write_bytes": self.io.get("write_bytes"),
               "channeld_wchar": self.io.get("wchar")}
        if len(self.pids) > 1:
            out["channeld_replicas"] = len(self.pids)
        if self.pg:
            out["postgres_cores"] = round(self.pg_cpu / load, 2)
            out["postgres_write_bytes"] = self.pg_io.get("write_bytes")
        if self.committer is not None:
            out["commit_thread_cores"] = round(self.committer[0] / load, 2)
            out["commit_thread_cpu_wait_cores"] = round(self.committer[1] / load, 2)
        return out

    def note(self):
        c = self.cpu()
        text = f"{self.label} {c['channeld_cores']:.2f} cores"
        if len(self.pids) > 1:
            text += f" ({len(self.pids)} replicas together)"
        if "postgres_cores" in c:
            text += f", postgres {c['postgres_cores']:.2f} cores"
        if c["foreign_cores"] >= 0.15:
            text += f"; OTHER PROCESSES used {c['foreign_cores']:.2f} cores meanwhile"
        return text

    def commit_thread_note(self):
        """Shares of the load's time the commit thread was on a CPU and was ready to run but
        waited for one, or "" (no such thread, or an idle one). Set beside `committing N%`, what
        is left of that is mostly its waits for the disk."""
        c = self.cpu()
        if c.get("commit_thread_cores", 0) < 0.05:
            return ""
        return (f"{COMMIT_THREAD} thread on a CPU {c['commit_thread_cores']:.0%} of the time, "
                f"waiting for a CPU {c['commit_thread_cpu_wait_cores']:.0%}")


# --------------------------------------------------------------------------------------------
# Counting fsyncs


class FsyncCounter:
    """Counts channeld's store commits/fsyncs over a span, the best way this machine allows:
    the admin /metrics counter when channeld has an admin port, else perf counting the
    fsync/fdatasync syscall tracepoints of the process (no slow-down), else strace (only in a
    separate short pass, since strace slows every traced call)."""

    def __init__(self, admin_address, forced="auto"):
        self.admin = admin_address
        self.method = None
        self.metric = None
        if forced not in ("auto", "metrics", "perf", "strace", "none"):
            raise ValueError(f"--fsync_method={forced}")
        if forced == "none":
            pass
        elif admin_address and forced in ("auto", "metrics"):
            self.method = "metrics"
        elif forced in ("auto", "perf") and shutil.which("perf") and self._perf_works():
            self.method = "perf"
        elif forced in ("auto", "strace") and shutil.which("strace"):
            self.method = "strace"
        self._proc = None
        self._before = None
        self.writes = None
        self.writes_per_commit = None
        self.frames = None  # channeld_store_wal_frames_total (SQLite)
        self.wal_frames = None  # its growth over the last span

    @staticmethod
    def _perf_works():
        tracing = Path("/sys/kernel/tracing")
        if tracing.is_dir() and not any(tracing.iterdir()) and os.geteuid() == 0:
            subprocess.run(["mount", "-t", "tracefs", "nodev", str(tracing)],
                           stderr=subprocess.DEVNULL, check=False)
        probe = subprocess.run(
            ["perf", "stat", "-x,", "-e", "syscalls:sys_enter_fdatasync", "--", "true"],
            capture_output=True, text=True, check=False)
        return probe.returncode == 0 and "sys_enter_fdatasync" in probe.stderr and \
            "not supported" not in probe.stderr

    @property
    def measures_inline(self):
        return self.method in ("metrics", "perf")

    def _metrics(self):
        # `admin` is one address, or a list (replicas): their counters add up.
        addresses = self.admin if isinstance(self.admin, (list, tuple)) else [self.admin]
        values = {}
        for address in addresses:
            with urllib.request.urlopen(f"http://{address}/metrics", timeout=5) as r:
                text = r.read().decode()
            for line in text.splitlines():
                if line.startswith("#") or not line.strip():
                    continue
                match = re.match(r"^([A-Za-z_:][\w:]*)(\{[^}]*\})?\s+([-+0-9.eE]+|NaN)", line)
                if match:
                    values[match.group(1)] = values.get(match.group(1), 0.0) + \
                        float(match.group(3))
        if self.metric is None:
            counters = sorted(n for n in values if n.endswith("_total") and
                              not re.search(r"fail|error|latency|writes", n))
            for pattern in (r"fsyncs?_total$", r"commits_total$", r"fsync|commit"):
                names = [n for n in counters if re.search(pattern, n)]
                if names:
                    self.metric = names[0]
                    break
        self.writes = next((v for n, v in values.items() if n.endswith("committed_writes_total")),
                           None)
        self.frames = values.get("channeld_store_wal_frames_total")
        return values.get(self.metric) if self.metric else None

    def start(self, pid):
        if self.method == "metrics":
            try:
                self._before = self._metrics()
            except OSError:
                self._before = None
            if self.metric is None:
                # The admin port has no commit/fsync counter: count the syscalls instead.
                self.method = "perf" if shutil.which("perf") and self._perf_works() else (
                    "strace" if shutil.which("strace") else None)
                if self.method == "strace":
                    return
        if self.method == "metrics":
            return
        if self.method == "perf":
            self._proc = subprocess.Popen(
                ["perf", "stat", "-x,", "-e",
                 "syscalls:sys_enter_fsync,syscalls:sys_enter_fdatasync", "-p", str(pid)],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            time.sleep(0.3)
        elif self.method == "strace":
            self._proc = subprocess.Popen(
                ["strace", "-f", "-c", "-e", "trace=fsync,fdatasync", "-p", str(pid)],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            time.sleep(1.0)

    def stop(self):
        """The count since start(), or None. With metrics, also sets writes_per_commit when
        channeld counts the writes its commits carried."""
        self.writes_per_commit = None
        self.wal_frames = None
        if self.method == "metrics":
            writes_before = self.writes
            frames_before = self.frames
            after = self._metrics()
            if after is None or self._before is None:
                return None
            if writes_before is not None and self.writes is not None and after > self._before:
                self.writes_per_commit = (self.writes - writes_before) / (after - self._before)
            if frames_before is not None and self.frames is not None:
                self.wal_frames = self.frames - frames_before
            return after - self._before
        if self._proc is None:
            return None
        self._proc.send_signal(signal.SIGINT)
        _, err = self._proc.communicate(timeout=30)
        self._proc = None
        total = 0
        if self.method == "perf":
            for line in err.splitlines():
                fields = line.split(",")
                if len(fields) > 2 and "sys_enter_f" in fields[2] and fields[0].isdigit():
                    total += int(fields[0])
            return total
        for line in err.splitlines():
            fields = line.split()
            if fields and fields[-1] in ("fsync", "fdatasync"):
                total += int(fields[3] if len(fields) >= 6 else fields[-2])
        return total

    def describe(self):
        return {
            "metrics": f"admin /metrics counter {self.metric or '(a commit or fsync counter)'}",
            "perf": "perf stat on syscalls:sys_enter_fsync + sys_enter_fdatasync of channeld",
            "strace": "strace -f -c -e fsync,fdatasync in a separate 3 s pass",
            None: "not counted (no admin metrics, perf or strace)",
        }[self.method]


# --------------------------------------------------------------------------------------------
# Load tools


def parse_bench_json(text, marker="BENCH_JSON "):
    for line in text.splitlines():
        if line.startswith(marker):
            return json.loads(line[len(marker):])
    raise RuntimeError("no result line in:\n" + text[-2000:])


def wrk_command(lua, url, source, seconds, connections, threads, offset=None, stride=None,
                ready=None):
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, int(round(seconds)))}s",
           "--timeout", "10s", "-s", str(lua), url, "--", str(source), str(stride or threads)]
    if offset is not None or ready is not None:
        cmd.append(str(offset or 0))
    if ready is not None:
        cmd.append(str(ready))
    return cmd


def run_wrk(lua, url, source, seconds, connections=64, threads=2):
    """One wrk process against one server, or (url a list of several) one wrk process per
    server, in parallel, splitting the connections and the request file between them."""
    if isinstance(url, (list, tuple)):
        if len(url) > 1:
            return run_wrk_split(lua, url, source, seconds, connections)
        url = url[0]
    # With several threads, webhook.lua holds them back until the last has read its requests
    # (see READY there): otherwise the first sends, uncounted by wrk's clock, while the others
    # read, and the rate comes out too high.
    with tempfile.TemporaryDirectory(prefix="channeld-bench-wrk-") as scratch:
        ready = Path(scratch) / "ready" if threads > 1 else None
        # The timeout only ends a hung run: reading the largest request file takes seconds.
        out = subprocess.run(wrk_command(lua, url, source, seconds, connections, threads,
                                         ready=ready),
                             capture_output=True, text=True, check=False, timeout=seconds + 600)
    return wrk_result(out.returncode, out.stdout, out.stderr)


def wrk_result(returncode, stdout, stderr):
    if returncode != 0:
        raise RuntimeError(f"wrk failed: {stderr}{stdout[-2000:]}")
    result = parse_bench_json(stdout)
    result["seconds"] = result["duration_us"] / 1e6
    result["rate"] = result["requests"] / result["seconds"]
    lat = result["latency_us"]
    result["p50_ms"], result["p99_ms"], result["p999_ms"] = (
        lat["p50"] / 1e3, lat["p99"] / 1e3, lat["p999"] / 1e3)
    return result


def run_wrk_split(lua, urls, source, seconds, connections):
    """One wrk process (one thread, connections / len(urls) connections) per server, started
    together; process k sends lines k, k + n, ... of the request file, so no request is sent
    twice. Counts and rates add up; each latency percentile is the larger of the processes'
    (an upper bound of the combined percentile: wrk prints percentiles, not its histogram)."""
    n = len(urls)
    procs = [subprocess.Popen(wrk_command(lua, url, source, seconds, connections // n, 1,
                                          offset=k, stride=n),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for k, url in enumerate(urls)]
    parts = []
    for proc in procs:
        out, err = proc.communicate()
        parts.append(wrk_result(proc.returncode, out, err))
    result = {
        "requests": sum(p["requests"] for p in parts),
        "seconds": max(p["seconds"] for p in parts),
        "rate": sum(p["rate"] for p in parts),
        "errors": {k: sum(p["errors"].get(k, 0) for p in parts) for k in parts[0]["errors"]},
        "wrapped": sum(p["wrapped"] for p in parts),
        "unique_requests": sum(p["unique_requests"] for p in parts),
        "p50_ms": max(p["p50_ms"] for p in parts),
        "p99_ms": max(p["p99_ms"] for p in parts),
        "p999_ms": max(p["p999_ms"] for p in parts),
        "latency_note": "each percentile: the larger of the wrk processes'",
        "parts": parts,
    }
    result["duration_us"] = int(result["seconds"] * 1e6)
    return result


def grpc_body(fields):
    """A gRPC length-prefixed message of string fields {number: value}."""
    payload = b""
    for number, value in sorted(fields.items()):
        data = value.encode()
        assert len(data) < 128
        payload += bytes([(number << 3) | 2, len(data)]) + data
    return b"\x00" + len(payload).to_bytes(4, "big") + payload


def quiet_disk():
    """Writes out what earlier rows left in the page cache (their logs: the trivial row alone
    logs ~150 MB), so that the kernel's writeback of it, due 30 s after it was written, does
    not land in the next row and compete with its fsyncs."""
    os.sync()


# The RPCs of the gRPC read rows, by method name: path, and request body file (grpc-NAME.bin).
# The "health" body goes without a caller token, as Health/Check needs none.
GRPC_READS = {
    "Check": ("/grpc.health.v1.Health/Check", "health"),
    "GetWebhookUrl": ("/linechannel.v1.ChannelService/GetWebhookUrl", "binding"),
    "GetChannel": ("/linechannel.v1.ChannelService/GetChannel", "binding"),
}


def run_h2load(address, path, body_file, seconds, token, log_file, clients=8, streams=8,
               warmup=1):
    """h2load against one server, or (address a list of several) one h2load process per
    server, in parallel, with clients / len(address) connections each: rates and counts add
    up, and the percentiles come from every process's per-request log together."""
    addresses = list(address) if isinstance(address, (list, tuple)) else [address]
    n = len(addresses)
    headers = ["content-type: application/grpc", "te: trailers"]
    if token:
        headers.append(f"authorization: Bearer {token}")
    procs, logs = [], []
    launched = time.time()
    for k, addr in enumerate(addresses):
        log = Path(log_file) if n == 1 else Path(f"{log_file}.{k}")
        logs.append(log)
        cmd = ["h2load", "-t", "1", "-c", str(clients // n), "-m", str(streams), "-D",
               str(int(round(seconds))), "-d", str(body_file), "--log-file", str(log)]
        if warmup:
            cmd += ["--warm-up-time", str(warmup)]
        for h in headers:
            cmd += ["-H", h]
        cmd.append(f"http://{addr}{path}")
        procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True))
    result = {"rate": 0.0, "requests": 0, "succeeded": 0, "failed": 0, "errored": 0,
              "status_2xx": 0, "clients": clients, "streams": streams, "servers": n}
    for proc in procs:
        text, err = proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"h2load failed: {err}{text[-2000:]}")
        match = re.search(r"finished in ([\d.]+)(m?s), ([\d.]+) req/s", text)
        counts = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, "
                           r"(\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout",
                           text)
        statuses = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx",
                             text)
        if not match or not counts:
            raise RuntimeError("cannot read h2load's output:\n" + text)
        result["rate"] += float(match.group(3))
        result["requests"] += int(counts.group(1))
        result["succeeded"] += int(counts.group(4))
        result["failed"] += int(counts.group(5))
        result["errored"] += int(counts.group(6))
        result["status_2xx"] += int(statuses.group(1)) if statuses else 0
    latencies = []
    for log in logs:
        with open(log) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3 and int(parts[0]) / 1e6 >= launched + warmup:
                    latencies.append(int(parts[2]))
    latencies.sort()
    result["measured_latencies"] = len(latencies)
    for name, q in (("p50_ms", 0.5), ("p99_ms", 0.99), ("p999_ms", 0.999)):
        result[name] = percentile(latencies, q) / 1e3 if latencies else None
    return result


def histogram_delta(before, after, name):
    """A histogram of channeld's /metrics (as metric_lines returns it) over a span: (count,
    sum in seconds, [(upper bound, cumulative count)]), or None if channeld has no such one."""
    bucket = re.compile(re.escape(name) + r'_bucket\{le="([^"]+)"\}$')

    def buckets(values):
        out = {}
        for key, value in values.items():
            match = bucket.match(key)
            if match:
                out[float(match.group(1))] = value
        return out
    first, last = buckets(before), buckets(after)
    count_key, sum_key = name + "_count", name + "_sum"
    if not last or count_key not in after:
        return None
    cumulative = sorted((le, last[le] - first.get(le, 0.0)) for le in last)
    return (after[count_key] - before.get(count_key, 0.0),
            after.get(sum_key, 0.0) - before.get(sum_key, 0.0), cumulative)


def histogram_bound(cumulative, count, q):
    """The upper bound of the bucket that holds quantile q: the quantile is at most this."""
    for le, seen in cumulative:
        if seen >= q * count:
            return le
    return math.inf


def percentile(sorted_values, q):
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, int(q * len(sorted_values) + 0.999999) - 1))
    return sorted_values[index]


def run_tool(binary, args, allow_failure=False):
    out = subprocess.run([str(binary)] + args, capture_output=True, text=True, check=False)
    lines = [l for l in out.stdout.splitlines() if l.startswith("{")]
    if not lines:
        raise RuntimeError(f"{binary} {' '.join(args)} failed ({out.returncode}): "
                           f"{out.stderr[-2000:]}")
    result = json.loads(lines[-1])
    result["exit_code"] = out.returncode
    if out.returncode != 0 and not allow_failure:
        raise RuntimeError(f"{binary} {' '.join(args)}: {lines[-1]}\n{out.stderr[-2000:]}")
    return result


# --------------------------------------------------------------------------------------------
# Fixture


def make_oas(prefix, count, first_channel, teams, rng):
    """Channels for the fake LINE platform and the matching OA rows for bench_grpc_load."""
    channels, rows = [], []
    for i in range(count):
        channel_id = str(first_channel + i)
        secret = f"{rng.getrandbits(128):032x}"
        token = "".join(rng.choice(webhooks.TOKEN_CHARS) for _ in range(172))
        basic = f"@{prefix[:2]}{first_channel + i:08d}"
        channels.append({
            "channel_id": channel_id, "channel_secret": secret, "access_token": token,
            "bot_user_id": f"U{rng.getrandbits(128):032x}", "basic_id": basic,
            "display_name": f"{prefix} shop {i}",
        })
        team = f"{prefix}-team-{i % teams}" if teams else f"{prefix}-team"
        rows.append("\t".join([team, channel_id, secret, token, basic, f"{prefix} app {i}"]))
    return channels, rows


# --------------------------------------------------------------------------------------------
# PostgreSQL (--store=postgres)


class PgCluster:
    """A private PostgreSQL 15 for one run, as tests/support/postgres_cluster.cc makes them:
    initdb + pg_ctl from PG_BINDIR, run as nobody when we are root (setpriv), no TCP
    (listen_addresses=''), the Unix socket in the cluster's directory. fsync stays on and
    synchronous_commit is on: the ingest rows measure durable commits, as SQLite's do with
    synchronous=FULL. stop() stops it and removes its directory (keeping its log)."""

    ROLE, PORT, DATABASE = "channeld", 5432, "channeld"

    def __init__(self, bin_dir, shared_buffers, log_copy):
        self.bin = Path(bin_dir)
        self.shared_buffers = shared_buffers
        self.log_copy = log_copy
        self.dir = None
        self.root = os.geteuid() == 0

    @property
    def data(self):
        return self.dir / "data"

    def _run(self, argv, what):
        if self.root:
            argv = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] + argv
        # cwd: PostgreSQL's programs fail in a directory their user cannot read.
        out = subprocess.run(argv, cwd=self.dir, capture_output=True, text=True, check=False)
        if out.returncode != 0:
            log = self.dir / "postgres.log"
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:]) \
                if log.exists() else ""
            raise RuntimeError(f"PostgreSQL: {what} failed ({out.returncode}): "
                               f"{out.stderr.strip()}{out.stdout.strip()}\n{tail}")
        return out.stdout

    def start(self):
        if not (self.bin / "initdb").exists():
            raise RuntimeError(f"no {self.bin}/initdb: install postgresql-15 or pass "
                               f"--pg_bindir")
        # In /tmp: nobody can reach it, and the socket path stays short. Same disk as the
        # SQLite data here (see README: compare like with like).
        self.dir = Path(tempfile.mkdtemp(prefix="channeld-bench-pg-", dir="/tmp"))
        if self.root:
            import pwd
            nobody = pwd.getpwnam("nobody")
            os.chown(self.dir, nobody.pw_uid, nobody.pw_gid)
        self._run([str(self.bin / "initdb"), "-D", str(self.data), "-U", self.ROLE, "-A",
                   "trust", "-E", "UTF8", "--locale=C", "--no-sync"], "initdb")
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write("\n# tools/bench/bench.py --store=postgres\n"
                       "listen_addresses = ''\n"
                       f"unix_socket_directories = '{self.dir}'\n"
                       f"port = {self.PORT}\n"
                       "max_connections = 100\n"
                       f"shared_buffers = '{self.shared_buffers}'\n"
                       "fsync = on\n"
                       "synchronous_commit = on\n")
        self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-l",
                   str(self.dir / "postgres.log"), "-w", "-t", "60", "-s", "start"],
                  "pg_ctl start")
        self.sql(f"CREATE DATABASE {self.DATABASE}", database="postgres")
        return self

    def url(self):
        host = urllib.parse.quote(str(self.dir), safe="")
        return f"postgresql://{self.ROLE}@/{self.DATABASE}?host={host}&port={self.PORT}"

    def sql(self, query, database=None):
        """One statement through psql; its rows as lists of text fields."""
        out = subprocess.run(
            ["psql", "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1",
             "-h", str(self.dir), "-p", str(self.PORT), "-U", self.ROLE,
             "-d", database or self.DATABASE, "-c", query],
            capture_output=True, text=True, check=False)
        if out.returncode != 0:
            raise RuntimeError(f"psql {query!r}: {out.stderr.strip()}")
        return [line.split("\t") for line in out.stdout.splitlines() if line]

    def wal_state(self):
        """WAL position in bytes (pg_wal_lsn_diff from 0/0) and checkpoints done so far."""
        row = self.sql("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint, "
                       "checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter")[0]
        return int(row[0]), int(row[1])

    def pids(self):
        """The postmaster and its children (backends, WAL writer, checkpointer, ...)."""
        if self.dir is None:
            return []
        try:
            postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return []
        pids = [postmaster]
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    data = f.read()
            except OSError:
                continue
            if int(data[data.rindex(")") + 2:].split()[1]) == postmaster:
                pids.append(int(entry))
        return pids

    def stop(self):
        """Stops the server and removes its directory; safe to call more than once."""
        if self.dir is None:
            return
        pg_ctl = str(self.bin / "pg_ctl")
        try:
            if (self.data / "postmaster.pid").exists():
                try:
                    self._run([pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "-t", "60",
                               "-s", "stop"], "pg_ctl stop")
                except RuntimeError:
                    self._run([pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "-s",
                               "stop"], "pg_ctl stop -m immediate")
            log = self.dir / "postgres.log"
            if log.exists() and self.log_copy:
                shutil.copyfile(log, self.log_copy)
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None


# --------------------------------------------------------------------------------------------
# The run


class Bench:
    def __init__(self, args):
        self.args = args
        self.build = Path(args.build_dir).resolve()
        self.bin = {
            "channeld": self.build / "server" / "channeld",
            "fake_line": self.build / "tools" / "fake_line" / "fake_line",
            "grpc_load": self.build / "tools" / "bench" / "bench_grpc_load",
            "fill_store": self.build / "tools" / "bench" / "bench_fill_store",
        }
        for name, path in self.bin.items():
            if not path.exists():
                sys.exit(f"bench: {path} is missing: build first (tools/bench/run builds)")
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        self.stamp = stamp
        self.work = Path(args.work_dir or (self.build / "bench-work" / stamp)).resolve()
        self.work.mkdir(parents=True, exist_ok=True)
        self.rows = []
        self.notes = []
        self.profiles = []
        # Where the ids of the last webhook file made end (see make_requests).
        self.ids_end_ms = 0
        self.children = []
        self.rng = random.Random(args.seed)
        self.channeld = None
        self.replicas = None  # channeld replicas sharing the load (--store=postgres), or None
        self.pg = None  # PgCluster (--store=postgres)
        self.fake = None
        self.token = None
        self.fsync = None
        self.log = None
        self.started = time.monotonic()
        help_text = subprocess.run([str(self.bin["channeld"]), "--helpfull"],
                                   capture_output=True, text=True, check=False).stdout
        self.has_admin_flag = "--admin_listen" in help_text
        self.lua = HERE / "webhook.lua"
        self.push_lua = HERE / "push.lua"
        self.fake_channels = {}

    # -- helpers

    def targets(self):
        """The channeld processes the load goes to: every replica, or the one channeld."""
        if self.replicas:
            return self.replicas
        return [self.channeld] if self.channeld else []

    def postgres_pids(self):
        return self.pg.pids() if self.pg else []

    def say(self, message):
        elapsed = time.monotonic() - self.started
        print(f"[{elapsed:6.1f}s] {message}", file=sys.stderr, flush=True)

    def row(self, name, value, unit, *, p50=None, p99=None, p999=None, rss=None, baseline=None,
            target=None, met=None, notes="", extra=None, is_baseline=False, span=None,
            versus=None, peer=None):
        """`versus`: another row of the same kind (the SQLite one, for --store=postgres) whose
        rate this row's is also divided by; `peer`: likewise, the SDK peer's row."""
        ratio = None
        if baseline is not None:
            base = next((r for r in self.rows if r["name"] == baseline), None)
            if base and base["value"]:
                ratio = value / base["value"] if value is not None else None
        versus_ratio = None
        if versus is not None:
            other = next((r for r in self.rows if r["name"] == versus), None)
            if other and other["value"] and value is not None:
                versus_ratio = value / other["value"]
        peer_row = next((r for r in self.rows if r["name"] == peer), None) if peer else None
        peer_ratio = value / peer_row["value"] if peer_row and peer_row["value"] and \
            value is not None else None
        row = {"name": name, "value": value, "unit": unit, "p50_ms": p50, "p99_ms": p99,
               "p999_ms": p999, "peak_rss_mb": rss, "baseline": baseline, "ratio": ratio,
               "is_baseline": is_baseline, "target": target, "met": None, "notes": notes,
               "versus": versus, "versus_ratio": versus_ratio, "peer": peer,
               "peer_ratio": peer_ratio, "extra": dict(extra or {})}
        if span is not None:
            row["peak_rss_mb"] = span.rss
            row["extra"]["cpu"] = span.cpu()
            note = span.note()
            cores = row["extra"]["cpu"]["channeld_cores"]
            if value and unit.endswith("/s") and cores >= 0.05:
                # On a shared machine the rate per core channeld got is steadier than the rate.
                row["extra"]["rate_per_channeld_core"] = value / cores
                note += f" ({value / cores:,.0f} {unit} per {span.label} core)"
            commit_thread = span.commit_thread_note()
            if commit_thread:
                note += f"; {commit_thread}"
            if note:
                row["notes"] = f"{row['notes']}; {note}" if row["notes"] else note
        if callable(met):
            row["met"] = met(row)
        elif met is not None:
            row["met"] = met
        self.rows.append(row)
        return row

    def start_fake_line(self, channels):
        fixture = self.work / "fixture.json"
        fixture.write_text(json.dumps({"channels": channels}))
        self.fake_channels = {c["channel_id"]: c for c in channels}
        self.fake = Child("fake_line", [str(self.bin["fake_line"]), "--listen=127.0.0.1:0",
                                        f"--fixture={fixture}"],
                          "fake_line listening on", self.work / "fake_line.log").start()
        self.children.append(self.fake)
        self.fake_url = self.fake.ready["line"].split()[-1]
        self.say(f"fake LINE at {self.fake_url} with {len(channels)} channels")

    def start_channeld(self, data_dir, extra_flags=(), log_name="channeld.log", primary=True):
        """Starts channeld; `primary=False` starts another replica only (the benchmarks'
        channeld, its token and its log stay the first one's)."""
        argv = [str(self.bin["channeld"]), "--grpc_listen=127.0.0.1:0",
                "--webhook_listen=127.0.0.1:0", f"--data_dir={data_dir}",
                f"--line_api_base_url={self.fake_url}",
                # The background re-check would add LINE calls no benchmark measures.
                "--recheck_interval=0"]
        if self.has_admin_flag:
            argv.append("--admin_listen=127.0.0.1:0")
        argv += list(self.args.channeld_flag) + list(extra_flags)
        child = Child("channeld", argv, "channeld ready", self.work / log_name).start()
        self.children.append(child)
        if not primary:
            return child
        self.channeld = child
        token_file = Path(data_dir) / "admin.token"
        self.token_file = token_file
        self.token = token_file.read_text().strip() if token_file.exists() else None
        self.log = ServerLog(child.log_path)
        if self.fsync is None or (self.fsync.method == "metrics") != bool(child.ready.get("admin")):
            self.fsync = FsyncCounter(child.ready.get("admin"), self.args.fsync_method)
        elif self.fsync.method == "metrics":
            self.fsync.admin = child.ready.get("admin")
        return child

    def stop_channeld(self):
        if self.channeld:
            self.channeld.stop()
            self.children.remove(self.channeld)
            self.channeld = None

    def stop_all(self):
        for child in reversed(self.children):
            child.stop()
        self.children = []
        self.replicas = None
        if self.pg:
            pg, self.pg = self.pg, None
            pg.stop()

    def grpc_tool(self, mode, extra, allow_failure=False):
        args = [f"--server={self.channeld.ready['grpc']}", f"--mode={mode}",
                f"--token_file={self.token_file}"] + extra
        return run_tool(self.bin["grpc_load"], args, allow_failure)

    def measure(self, fn):
        """Runs fn() inside a Span: peak RSS and CPU use of channeld and of the machine."""
        with Span(self) as span:
            result = fn()
        return result, span

    # -- gRPC writes

    def bench_grpc_writes(self, hooks_oas, cycle_oas, storm_oas):
        d = self.args.duration
        health, span = self.measure(lambda: self.grpc_tool(
            "health", ["--concurrency=64", f"--duration={d}"]))
        lat = health["latency"]
        self.row("grpc_health_cpp", health["rate"], "req/s", p50=lat["p50_us"] / 1e3,
                 p99=lat["p99_us"] / 1e3, p999=lat["p999_us"] / 1e3, span=span, is_baseline=True,
                 notes="Health/Check, C++ callback client, 64 in flight", extra=health)
        self.say(f"grpc_health_cpp: {health['rate']:.0f}/s")

        burst, span = self.measure(lambda: self.grpc_tool(
            "bind_burst", [f"--oas={hooks_oas}", "--concurrency=0",
                           f"--out={self.work / 'bindings.tsv'}"]))
        lat = burst["latency"]
        self.row("grpc_bind_burst_1000", burst["rate"], "binds/s", p50=lat["p50_us"] / 1e3,
                 p99=lat["p99_us"] / 1e3, p999=lat["p999_us"] / 1e3, span=span, is_baseline=True,
                 notes=f"1,000 distinct OAs at once: all resolved in {burst['seconds']:.2f} s; "
                       f"outcomes {burst['outcomes']}", extra=burst)
        self.say(f"bind burst: {burst['seconds']:.2f}s {burst['outcomes']}")

        cycles, span = self.measure(lambda: self.grpc_tool(
            "cycles", [f"--oas={cycle_oas}", "--concurrency=32", f"--duration={d}"]))
        for kind in ("bind", "unbind"):
            lat = cycles[kind]
            self.row(f"grpc_{kind}_cycles", cycles["cycle_rate"], f"{kind}s/s",
                     p50=lat["p50_us"] / 1e3, p99=lat["p99_us"] / 1e3,
                     p999=lat["p999_us"] / 1e3, span=span, baseline="grpc_health_cpp",
                     notes=(f"{kind.capitalize()}Channel in bind->unbind cycles over "
                            f"{cycles['oas']} OAs, 32 in flight; outcomes "
                            f"{cycles[kind + '_outcomes']}"),
                     extra=cycles)
        self.say(f"cycles: {cycles['cycle_rate']:.0f}/s")

        storm, span = self.measure(lambda: self.grpc_tool(
            "storm", [f"--oas={storm_oas}", "--storm_teams=50", "--storm_requests=1000"],
            allow_failure=True))
        lat = storm["latency"]
        resolution = storm["resolution_ms"] / 1e3
        self.row("grpc_bind_storm_1oa", storm["rate"], "binds/s", p50=lat["p50_us"] / 1e3,
                 p99=lat["p99_us"] / 1e3, p999=lat["p999_us"] / 1e3, span=span,
                 baseline="grpc_bind_burst_1000",
                 target="resolved < 2 s, exactly one winner",
                 met=resolution < 2.0 and storm["exactly_one_winner"],
                 notes=(f"1,000 binds of one OA from 50 teams: resolved in {resolution:.2f} s, "
                        f"winner after {storm['winner_ms'] / 1e3:.2f} s, winners "
                        f"{storm['winners']}, teams holding it {storm['holders']}; outcomes "
                        f"{storm['outcomes']}"),
                 extra=storm)
        self.say(f"storm: {resolution:.2f}s one winner={storm['exactly_one_winner']}")

    # -- gRPC reads

    def bench_grpc_reads(self, binding, suffix="", versus_suffix=None):
        team, channel = binding[0], binding[1]
        check = self.grpc_tool("check", [f"--team_id={team}", f"--channel_id={channel}"])
        self.say(f"read check: {check}")
        bodies = {
            "health": grpc_body({}),
            "binding": grpc_body({1: team, 2: channel}),
        }
        files = {}
        for name, data in bodies.items():
            files[name] = self.work / f"grpc-{name}.bin"
            files[name].write_bytes(data)
        grpc = [c.ready["grpc"] for c in self.targets()]
        d = self.args.duration
        health = "grpc_health_h2load" + suffix
        plan = [
            (health, "Check", None, None),
            ("grpc_GetWebhookUrl" + suffix, "GetWebhookUrl", health, ">= 80% of Health/Check"),
            ("grpc_GetChannel" + suffix, "GetChannel", health, ">= 80% of Health/Check"),
        ]
        for name, method, baseline, target in plan:
            path, body = GRPC_READS[method]
            self.log.mark()
            result, span = self.measure(lambda: run_h2load(
                grpc, path, files[body], d, self.token if body != "health" else None,
                self.work / f"h2load-{name}.log"))
            result["server_log"] = self.log.rpc_summary()
            notes = "h2load 8 connections x 8 streams"
            if len(grpc) > 1:
                notes = (f"{len(grpc)} h2load processes, one per replica, "
                         f"{8 // len(grpc)} connections x 8 streams each")
            bad = {k: v for k, v in result["server_log"].items()
                   if k.startswith(method + ":") and not k.endswith(":OK")}
            invalid = sum(bad.values()) > 0.01 * max(1, result["requests"])
            if bad:
                notes += f"; {'INVALID: ' if invalid else ''}gRPC errors {bad}"
            if result["failed"] or result["errored"]:
                notes += f"; h2load failed {result['failed']} errored {result['errored']}"
            self.row(name, result["rate"], "req/s", p50=result["p50_ms"], p99=result["p99_ms"],
                     p999=result["p999_ms"], span=span, baseline=baseline, target=target,
                     met=(lambda r: not invalid and r["ratio"] is not None and
                          r["ratio"] >= 0.8) if baseline else None,
                     is_baseline=baseline is None, notes=notes, extra=result,
                     versus=None if versus_suffix is None else
                     name[:len(name) - len(suffix)] + versus_suffix)
            self.say(f"{name}: {result['rate']:.0f}/s")

    # -- webhooks

    def make_requests(self, name, requests, events, kind="ingest", start_ms=None):
        path = self.work / f"webhooks-{name}.txt"
        started = time.monotonic()
        if kind == "ingest":
            # LINE's ids never go back in time, so no file's begin before the last one's end. A
            # file sized for more requests a second than webhooks.DISPATCH_RATE runs ahead of
            # the clock (the 1-event file's ids span 33 s and are sent in about 10); a later
            # file starting at the clock put most of its ids below the ones stored, where no
            # new event of LINE's falls.
            start_ms = max(start_ms or int(time.time() * 1000), self.ids_end_ms)
            self.ids_end_ms = start_ms + webhooks.dispatch_span_ms(requests)
        n, total_events, mean = webhooks.generate(self.work / "bindings.tsv", path, requests,
                                                  events, kind, start_ms=start_ms)
        self.say(f"generated {n} {name} requests ({mean:.0f} B/body) in "
                 f"{time.monotonic() - started:.1f}s")
        return path, mean

    @staticmethod
    def ingest_goals(events):
        """Issue 15's goals for an ingest row of `events` events per request: its target text,
        and whether a row meets them. Every goal counts, the bytes per event among them; a row
        without a figure a goal needs does not meet it."""
        def met(r):
            # What the disk took; where the device does not say, what channeld dirtied.
            per_event = r["extra"].get("disk_bytes_per_event",
                                       r["extra"].get("write_bytes_per_event"))
            ok = (r["p99_ms"] is not None and r["p99_ms"] < 20 and
                  per_event is not None and per_event <= 2048)
            if events == 1:
                ok = ok and r["ratio"] is not None and r["ratio"] >= 0.5
                # Against the SDK peer only when it ran (--no_sdk_peer, or no Node).
                ok = ok and (r["peer"] is None or
                             (r["peer_ratio"] is not None and r["peer_ratio"] >= 3))
            return ok
        if events == 1:
            return ">= 50% of trivial, >= 3x peer, p99 < 20 ms, <= 2 KiB/event", met
        return "p99 < 20 ms, <= 2 KiB/event", met

    def run_webhook(self, name, source, *, baseline=None, target=None, met=None, events=0,
                    count_fsyncs=False, seconds=None, mean_body=None, extra_notes="",
                    warmup_source=None, versus=None, peer=None):
        seconds = seconds or self.args.duration
        urls = [f"http://{c.ready['webhook']}" for c in self.targets()]
        pid = self.channeld.pid
        warm = None
        quiet_disk()
        if self.args.warmup > 0 and warmup_source is not None:
            warm = run_wrk(self.lua, urls, warmup_source, self.args.warmup)
        self.log.mark()
        counting = count_fsyncs and self.fsync.measures_inline
        if counting:
            self.fsync.start(pid)
        wal_before = self.pg.wal_state() if self.pg and events else None
        # channeld's own histograms, to tell its time from the client's and the store's share
        # of it (one channeld only: replicas' histograms would need adding up).
        inside_before = self.metric_lines() if events and len(urls) == 1 else None
        # PostgreSQL's files may be on another disk than channeld's.
        disks = None
        if events:
            disks = [self.work] + ([self.pg.dir] if self.pg else [])
        with Span(self, disk_paths=disks) as span:
            result = run_wrk(self.lua, urls, source, seconds)
            span.load_s = result["seconds"]
        inside_after = self.metric_lines() if inside_before is not None else None
        wal_after = self.pg.wal_state() if wal_before else None
        fsyncs = self.fsync.stop() if counting else None
        summary = self.log.webhook_summary()
        result["server_log"] = summary
        notes = []
        if len(urls) > 1:
            notes.append(f"{len(urls)} wrk processes, one per replica, 1 thread and "
                         f"{64 // len(urls)} connections each; latencies: the larger of theirs")
        if events:
            notes.append(f"{events} event(s)/request, ~{mean_body:.0f} B, "
                         f"{result['rate'] * events:.0f} events/s")
        if fsyncs is not None:
            # On PostgreSQL the counter counts channeld's webhook transactions, each of which
            # waits for its WAL flush (synchronous_commit=on); PostgreSQL may flush several
            # replicas' commits at once, so it is an upper bound of WAL fsyncs.
            what = "commits" if self.pg else "fsyncs"
            result["fsyncs"] = fsyncs
            result["fsyncs_per_request"] = fsyncs / max(1, result["requests"])
            notes.append(f"{result['fsyncs_per_request']:.3f} {what}/request "
                         f"({fsyncs:.0f} in {result['requests']})")
            if self.fsync.writes_per_commit:
                result["writes_per_commit"] = self.fsync.writes_per_commit
                notes.append(f"{self.fsync.writes_per_commit:.1f} writes/commit")
            if self.fsync.wal_frames is not None and fsyncs:
                # SQLite pages written to the log (the checkpoint copies them again later).
                result["wal_frames"] = self.fsync.wal_frames
                result["wal_frames_per_commit"] = self.fsync.wal_frames / fsyncs
                result["wal_frames_per_event"] = self.fsync.wal_frames / max(1, summary["stored"])
                notes.append(f"{result['wal_frames_per_commit']:.1f} WAL frames/commit, "
                             f"{result['wal_frames_per_event']:.2f}/event")
        if inside_after:
            inside = self.time_inside(inside_before, inside_after, result["seconds"])
            if inside:
                result.update(inside["figures"])
                notes.append(inside["note"])
        if wal_after:
            wal = wal_after[0] - wal_before[0]
            checkpoints = wal_after[1] - wal_before[1]
            result["wal_bytes"] = wal
            result["wal_bytes_per_event"] = wal / max(1, summary["stored"])
            result["checkpoints"] = checkpoints
            notes.append(f"WAL {wal / max(1, summary['stored']):,.0f} B/event "
                         f"({wal / 2**20:.1f} MiB for {summary['stored']} events"
                         f"{f', {checkpoints} checkpoint(s) meanwhile' if checkpoints else ''})")
        written = span.io.get("write_bytes")
        if events and written is not None:
            if self.pg:
                written += span.pg_io.get("write_bytes") or 0
            result["write_bytes"] = written
            result["write_bytes_per_request"] = written / max(1, result["requests"])
            result["write_bytes_per_event"] = written / max(1, summary["stored"])
            notes.append(f"{written / max(1, result['requests']) / 1024:.1f} KiB dirtied in the "
                         f"page cache/request, {result['write_bytes_per_event'] / 1024:.2f} "
                         f"KiB/stored event{' (channeld + postgres)' if self.pg else ''}")
        if events and span.disk_bytes is not None:
            result["disk_bytes"] = span.disk_bytes
            result["disk_bytes_per_request"] = span.disk_bytes / max(1, result["requests"])
            result["disk_bytes_per_event"] = span.disk_bytes / max(1, summary["stored"])
            notes.append(f"{result['disk_bytes_per_request'] / 1024:.1f} KiB to disk/request, "
                         f"{result['disk_bytes_per_event'] / 1024:.2f} KiB/stored event "
                         f"(the device's own count)")
            # Clean runs give 0.7-1.1 times what channeld dirtied; a build meanwhile, 16 times.
            if written and span.disk_bytes > 2 * written:
                notes.insert(0, f"OTHER WRITERS ON THIS DISK? it wrote "
                                f"{span.disk_bytes / written:.1f}x what channeld dirtied")
        elif events:
            notes.append("NO DEVICE COUNT of disk writes here (tmpfs or overlay?): the goals "
                         "judge the KiB dirtied in the page cache")
        statuses = summary["statuses"]
        notes.append("statuses " + ",".join(f"{k}:{v}" for k, v in sorted(statuses.items())))
        if events:
            notes.append(f"stored {summary['stored']} dup {summary['duplicates']}")
        if result["wrapped"]:
            notes.append(f"WRAPPED {result['wrapped']} (request file too short)")
        errors = {k: v for k, v in result["errors"].items() if v and k != "status"}
        if errors:
            notes.append(f"wrk errors {errors}")
        if extra_notes:
            notes.append(extra_notes)
        if warm is not None:
            result["warmup"] = {k: warm[k] for k in ("rate", "p50_ms", "p99_ms", "p999_ms")}
            if warm["p99_ms"] > 2 * max(result["p99_ms"], 1):
                notes.append(f"warm-up ({self.args.warmup:.0f} s before, not counted) had "
                             f"p99 {warm['p99_ms']:.0f} ms at {warm['rate']:.0f}/s")
        answered = sum(statuses.values())
        invalid = bool(events) and answered > 0 and statuses.get("200", 0) < 0.99 * answered
        if invalid:
            notes.insert(0, "INVALID: under 99% of the answers were 200")
        goals = met
        if goals is not None:
            met = lambda r: not invalid and goals(r)
        row = self.row(name, result["rate"], "req/s", p50=result["p50_ms"], p99=result["p99_ms"],
                       p999=result["p999_ms"], span=span, baseline=baseline, target=target,
                       met=met, is_baseline=baseline is None, notes="; ".join(notes),
                       extra=result, versus=versus, peer=peer)
        self.say(f"{name}: {result['rate']:.0f}/s p99 {result['p99_ms']:.1f} ms "
                 f"{'; '.join(notes)}")
        return row

    @staticmethod
    def time_inside(before, after, seconds):
        """From channeld's histograms over a span of `seconds`: its own time per webhook request
        (header read to answer) and per store commit, as the mean and the bucket bound of the
        p99; and the share of those seconds the commit thread spent in commits."""
        figures, parts = {}, []
        for key, name in (("request", "channeld_webhook_latency_seconds"),
                          ("commit", "channeld_store_commit_latency_seconds")):
            delta = histogram_delta(before, after, name)
            if not delta or delta[0] <= 0:
                continue
            count, total, cumulative = delta
            mean_ms = total / count * 1e3
            bound = histogram_bound(cumulative, count, 0.99)
            figures[f"inside_{key}_count"] = int(count)
            figures[f"inside_{key}_seconds"] = round(total, 3)
            figures[f"inside_{key}_mean_ms"] = round(mean_ms, 3)
            figures[f"inside_{key}_p99_bound_ms"] = None if math.isinf(bound) else bound * 1e3
            p99 = "over the last bucket" if math.isinf(bound) else f"<= {bound * 1e3:g} ms"
            part = f"{key} mean {mean_ms:.2f} ms, p99 {p99}"
            if key == "commit" and seconds > 0:
                # Commits run one at a time, so this is how busy the commit thread was.
                figures["commit_busy_share"] = round(total / seconds, 3)
                part += f", committing {total / seconds:.0%} of the time"
            parts.append(part)
        if not parts:
            return None
        return {"figures": figures, "note": "in channeld: " + "; ".join(parts)}

    def fsync_pass(self, name, source):
        """strace fallback: a separate short pass only to count fsyncs per request."""
        if self.fsync.method != "strace":
            return
        url = f"http://{self.channeld.ready['webhook']}"
        self.log.mark()
        self.fsync.start(self.channeld.pid)
        run_wrk(self.lua, url, source, 3)
        fsyncs = self.fsync.stop()
        answered = sum(self.log.webhook_summary()["statuses"].values())
        row = next(r for r in self.rows if r["name"] == name)
        per = fsyncs / max(1, answered)
        row["extra"]["fsyncs"] = fsyncs
        row["extra"]["fsyncs_per_request"] = per
        row["notes"] += f"; {per:.3f} fsyncs/request (strace pass: {fsyncs} in {answered})"

    def warmup_requests(self, name, rate_cap, events):
        """A request file of its own for the warm-up pass, so the measured run's ids stay new;
        returns it and the time its ids end at, where the measured run's begin (LINE's ids grow
        with time, and the warm-up is sent first)."""
        if self.args.warmup <= 0:
            return None, None
        requests = int(rate_cap * (self.args.warmup + 1))
        path = self.make_requests(name + "-warmup", requests, events)[0]
        return path, self.ids_end_ms

    def bench_webhooks(self, suffix="", baseline_name=None, kinds=("trivial", "ingest1",
                                                                    "ingest20", "lookup"),
                       versus_suffix=None):
        """`versus_suffix`: also divide each row's rate by the row of the same kind with this
        suffix ("" for the SQLite rows of --store=postgres)."""
        d = self.args.duration
        rows = {}
        trivial = baseline_name

        def versus(name):
            return None if versus_suffix is None else name[:len(name) - len(suffix)] + \
                versus_suffix

        if "trivial" in kinds:
            trivial = "webhook_trivial" + suffix
            rows["trivial"] = self.run_webhook(trivial, "trivial", warmup_source="trivial",
                                               versus=versus(trivial))
            rows["trivial"]["notes"] = ("GET /healthz on the webhook server, its cheapest answer "
                                        "(no disk); " + rows["trivial"]["notes"])
        # Enough unique requests for the run at well above the rates seen on 2 cores.
        for kind, events, cap in (("ingest1", 1, self.args.ingest1_rate_cap),
                                  ("ingest20", 20, self.args.ingest20_rate_cap)):
            if kind not in kinds:
                continue
            name = f"webhook_ingest_{events}ev" + suffix
            n = int(cap * (d + 1))
            warmup, measured_start_ms = self.warmup_requests(name, cap, events)
            path, mean = self.make_requests(name, n, events, start_ms=measured_start_ms)
            # The SDK peer gets the same signed requests first (it stores nothing, so channeld
            # still sees every webhookEventId for the first time).
            peer = "webhook_sdk_peer" + ("" if events == 1 else f"_{events}ev")
            if self.args.sdk_peer and not any(r["name"] == peer for r in self.rows):
                self.run_sdk_peer(peer, path, warmup, events, mean)
            target, met = self.ingest_goals(events)
            rows[kind] = self.run_webhook(
                name, path, baseline=trivial, target=target, met=met, events=events,
                count_fsyncs=True, mean_body=mean, warmup_source=warmup, versus=versus(name),
                peer=peer if any(r["name"] == peer for r in self.rows) else None)
            if self.fsync.method == "strace":
                self.fsync_pass(name, self.make_requests(name + "-fsync", n // 3, events)[0])
        if "lookup" in kinds:
            name = "webhook_lookup" + suffix
            path, _ = self.make_requests(name, int(self.args.lookup_rate_cap * (d + 1)), 0,
                                         kind="lookup")
            rows["lookup"] = self.run_webhook(
                name, path, baseline=trivial, warmup_source=path, versus=versus(name),
                extra_notes="signed empty body: key lookup + unseal + HMAC, answered 400")
        return rows

    def start_sdk_peer(self):
        """The Node peer (peer/sdk_peer.js): express + @line/bot-sdk's middleware, its npm
        packages installed (npm ci, from peer/package-lock.json) under the build dir. None,
        with a note, when Node or npm is missing or the install fails."""
        if not (shutil.which("node") and shutil.which("npm")):
            self.notes.append("webhook_sdk_peer skipped: node/npm not installed")
            return None
        npm_dir = self.build / "bench-sdk-peer"
        npm_dir.mkdir(parents=True, exist_ok=True)
        lock = HERE / "peer" / "package-lock.json"
        stamp = npm_dir / "node_modules" / ".package-lock.json.installed"
        if not (stamp.exists() and stamp.read_bytes() == lock.read_bytes()):
            for name in ("package.json", "package-lock.json"):
                shutil.copyfile(HERE / "peer" / name, npm_dir / name)
            self.say(f"installing the SDK peer's npm packages in {npm_dir}")
            out = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                                 cwd=npm_dir, capture_output=True, text=True, check=False)
            if out.returncode != 0:
                self.notes.append(f"webhook_sdk_peer skipped: npm ci failed: "
                                  f"{(out.stderr or out.stdout)[-300:]}")
                return None
            shutil.copyfile(lock, stamp)
        env = dict(os.environ, NODE_PATH=str(npm_dir / "node_modules"), NODE_ENV="production")
        child = Child("sdk_peer", ["node", str(HERE / "peer" / "sdk_peer.js"),
                                   str(self.work / "bindings.tsv")],
                      "sdk_peer ready", self.work / "sdk_peer.log")
        child.env = env
        child.start()
        self.children.append(child)
        version = subprocess.run(["node", "--version"], capture_output=True, text=True,
                                 check=False).stdout.strip()
        self.say(f"SDK peer (node {version}) at {child.ready['webhook']}")
        return child

    def run_sdk_peer(self, name, source, warmup_source, events, mean_body):
        """The baseline row of one ingest row: the same signed requests, sent the same way (wrk,
        64 connections), to the SDK peer, which checks each signature and answers 200."""
        peer = self.start_sdk_peer()
        if peer is None:
            return None
        try:
            url = f"http://{peer.ready['webhook']}"
            quiet_disk()
            if self.args.warmup > 0 and warmup_source is not None:
                run_wrk(self.lua, url, warmup_source, self.args.warmup)
            with Span(self, pids=[peer.pid], label="node") as span:
                result = run_wrk(self.lua, url, source, self.args.duration)
                span.load_s = result["seconds"]
        finally:
            peer.stop()
            self.children.remove(peer)
        non_2xx = result["errors"]["status"]
        notes = [f"express + @line/bot-sdk middleware (Node), signature check only, stores "
                 f"nothing; the same {events}-event requests (~{mean_body:.0f} B) as "
                 f"webhook_ingest_{events}ev"]
        if non_2xx:
            notes.insert(0, f"INVALID: {non_2xx} answers were not 2xx")
        row = self.row(name, result["rate"], "req/s", p50=result["p50_ms"], p99=result["p99_ms"],
                       p999=result["p999_ms"], span=span, is_baseline=True,
                       notes="; ".join(notes), extra=result)
        self.say(f"{name}: {result['rate']:.0f}/s p99 {result['p99_ms']:.1f} ms")
        return row

    # -- pushes (issue 13)

    def fake_call(self, method, path, body=None):
        """One call to the fake LINE platform's control API; its JSON answer."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.fake_url}{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as r:
            return json.loads(r.read() or b"{}")

    def fake_pushes(self, channel_ids):
        """Pushes the fake LINE accepted so far on these channels: their quota usage (one per
        accepted push to one user; refused calls and 409 repeats do not count)."""
        return sum(self.fake_call("GET", f"/fake/channels/{c}/messaging")["quota_usage"]
                   for c in channel_ids)

    def metric_lines(self):
        """channeld's admin /metrics as {"name{labels}": value}, or {} without an admin port."""
        admin = self.channeld.ready.get("admin")
        if not admin:
            return {}
        text = urllib.request.urlopen(f"http://{admin}/metrics", timeout=10).read().decode()
        out = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                key, _, value = line.rpartition(" ")
                try:
                    out[key] = float(value)
                except ValueError:
                    pass
        return out

    def prepare_push(self, oas_file, bindings):
        """The push fixture: the first --push_oas bound OAs, --push_users new users each at the
        fake LINE, their quota unlimited and no rate limit. Writes the OA and user files of
        bench_grpc_load --mode=push and the target file of push.lua (token TAB user, in the
        order bench_grpc_load goes round them: user k of every OA, then user k + 1)."""
        bound = {b[1] for b in bindings}
        rows = [l for l in Path(oas_file).read_text().splitlines()
                if l and l.split("\t")[1] in bound][:self.args.push_oas]
        if not rows:
            raise RuntimeError("no bound OA to push through")
        channels = [r.split("\t")[1] for r in rows]
        started = time.monotonic()
        users = {}
        for channel in channels:
            self.fake_call("PATCH", f"/fake/channels/{channel}/messaging",
                           {"message_quota": -1, "rate_limit_per_second": 0})
            users[channel] = self.fake_call("POST", f"/fake/channels/{channel}/users",
                                            {"count": self.args.push_users})["user_ids"]
        files = {"oas": self.work / "oas-push.tsv", "users": self.work / "push-users.tsv",
                 "direct": self.work / "push-direct.txt"}
        files["oas"].write_text("\n".join(rows) + "\n")
        files["users"].write_text("".join(f"{c}\t{u}\n" for c in channels for u in users[c]))
        files["direct"].write_text("".join(
            f"{self.fake_channels[c]['access_token']}\t{users[c][k]}\n"
            for k in range(self.args.push_users) for c in channels))
        self.say(f"push fixture: {len(channels)} OAs x {self.args.push_users} users at the fake "
                 f"LINE (quota unlimited, no rate limit) in {time.monotonic() - started:.1f}s")
        return channels, files

    @staticmethod
    def client_cores(span, fake_cpu_s):
        """Cores the load generator (wrk or bench_grpc_load, with this script) used in `span`:
        all our processes' CPU less channeld's and the fake LINE's."""
        return max(0.0, span.ours - span.channeld_cpu - fake_cpu_s) / max(span.wall, 1e-6)

    def run_push_wrk(self, source, seconds):
        """push.lua against the fake LINE: 2 threads, 64 kept-alive connections, as the
        webhook rows; a new run tag per wrk process keeps the retry keys unique."""
        cmd = wrk_command(self.push_lua, self.fake_url, source, seconds, 64, 2, offset=0)
        cmd.append(f"{self.rng.getrandbits(32):08x}")
        out = subprocess.run(cmd, capture_output=True, text=True, check=False)
        return wrk_result(out.returncode, out.stdout, out.stderr)

    def bench_push(self, oas_file, bindings):
        """line_push_direct (the same pushes straight to the fake LINE, wrk) and grpc_push
        (PushMessage through channeld: outbox commit, LINE call, answer), with the exactly-once
        check: pushes the fake accepted during grpc_push = pushes channeld answered SENT."""
        d = self.args.duration
        channels, files = self.prepare_push(oas_file, bindings)
        shape = (f"{len(channels)} OAs x {self.args.push_users} users, one text message each, "
                 f"64 in flight")

        # The baseline: the same pushes straight to the fake LINE.
        if self.args.warmup > 0:
            self.run_push_wrk(files["direct"], self.args.warmup)
        fake_before, fake_cpu = self.fake_pushes(channels), process_cpu_s(self.fake.pid)
        with Span(self) as span:
            direct = self.run_push_wrk(files["direct"], d)
        fake_cpu = process_cpu_s(self.fake.pid) - fake_cpu
        fake_cores = fake_cpu / max(span.wall, 1e-6)
        client = self.client_cores(span, fake_cpu)
        accepted = self.fake_pushes(channels) - fake_before
        direct.update({"fake_accepted": accepted, "fake_line_cores": round(fake_cores, 2),
                       "client_cores": round(client, 2)})
        refused = direct["errors"]["status"]
        notes = [f"POST /v2/bot/message/push straight to the fake LINE, wrk 2 threads x 64 "
                 f"kept-alive connections, Bearer = the channel's token, a new "
                 f"X-Line-Retry-Key each; {shape}",
                 f"fake_line {fake_cores:.2f} cores, wrk {client:.2f} cores",
                 f"fake accepted {accepted} pushes, wrk counted {direct['requests']} answers "
                 f"({refused} not 2xx)"]
        if refused > 0.01 * max(1, direct["requests"]):
            notes.insert(0, "INVALID: over 1% of the pushes were refused")
        self.row("line_push_direct", direct["rate"], "pushes/s", p50=direct["p50_ms"],
                 p99=direct["p99_ms"], p999=direct["p999_ms"], span=span, is_baseline=True,
                 notes="; ".join(notes), extra=direct)
        self.say(f"line_push_direct: {direct['rate']:.0f}/s p99 {direct['p99_ms']:.1f} ms; "
                 f"fake_line {fake_cores:.2f} cores")

        # Through channeld: PushMessage, warm-up included in one bench_grpc_load run.
        fake_before, fake_cpu = self.fake_pushes(channels), process_cpu_s(self.fake.pid)
        metrics_before = self.metric_lines()
        with Span(self) as span:
            result = self.grpc_tool("push", [
                f"--oas={files['oas']}", f"--users={files['users']}", "--concurrency=64",
                f"--duration={d}", f"--warmup={self.args.warmup}"], allow_failure=True)
        fake_cpu = process_cpu_s(self.fake.pid) - fake_cpu
        fake_cores = fake_cpu / max(span.wall, 1e-6)
        client = self.client_cores(span, fake_cpu)
        metrics_after = self.metric_lines()
        everything = result["all_outcomes"]
        sent = everything.get("SENT", 0)
        pending = everything.get("PENDING", 0)
        # PENDING pushes are stored and retried by channeld: give them a moment to reach LINE.
        deadline = time.monotonic() + 10
        accepted = self.fake_pushes(channels) - fake_before
        while accepted < sent + pending and time.monotonic() < deadline:
            time.sleep(0.5)
            accepted = self.fake_pushes(channels) - fake_before
        exactly_once = accepted == sent + pending
        answered = sent + pending

        def delta(match):
            keys = [k for k in metrics_after if match(k)]
            if not keys:
                return None
            return sum(metrics_after[k] - metrics_before.get(k, 0.0) for k in keys)

        commits = delta(lambda k: k == "channeld_store_commits_total")
        line_calls = delta(lambda k: k.startswith("channeld_line_calls_total{") and
                           'call="push"' in k)
        measured = result["outcomes"]
        bad = {k: v for k, v in measured.items() if k != "SENT"}
        invalid = sum(bad.values()) > 0.01 * max(1, sum(measured.values()))
        notes = [f"PushMessage through channeld (durable outbox, then LINE's push with "
                 f"X-Line-Retry-Key), bench_grpc_load, {shape}; outcomes {measured}",
                 f"fake_line {fake_cores:.2f} cores, bench_grpc_load {client:.2f} cores"]
        writes = delta(lambda k: k == "channeld_store_committed_writes_total")
        commit_s = delta(lambda k: k == "channeld_store_commit_latency_seconds_sum")
        if commits is not None and answered:
            note = f"{commits / answered:.2f} commits/push ({commits:.0f} in {answered}"
            if writes:
                note += f", {writes / answered:.2f} writes/push"
                result["writes_per_push"] = writes / answered
            if commit_s is not None and commits:
                note += f", {commit_s / commits * 1e3:.1f} ms/commit"
                result["mean_commit_ms"] = commit_s / commits * 1e3
            notes.append(note + ")")
            result["commits_per_push"] = commits / answered
        if line_calls is not None and answered:
            notes.append(f"{line_calls / answered:.2f} LINE push calls/push")
            result["line_calls_per_push"] = line_calls / answered
        once = (f"exactly once: fake LINE accepted {accepted} pushes = {sent} answered SENT"
                f"{f' + {pending} PENDING' if pending else ''} (whole run, warm-up included)")
        if not exactly_once:
            once = (f"NOT EXACTLY ONCE: fake LINE accepted {accepted} pushes, channeld answered "
                    f"{sent} SENT + {pending} PENDING over the whole run; all outcomes "
                    f"{everything}")
        notes.append(once)
        if invalid:
            notes.insert(0, "INVALID: under 99% of the measured pushes were answered SENT")
        result.update({"fake_accepted": accepted, "exactly_once": exactly_once,
                       "fake_line_cores": round(fake_cores, 2), "commits": commits,
                       "client_cores": round(client, 2),
                       "line_push_calls": line_calls})
        lat = result["latency"]
        self.row("grpc_push", result["rate"], "pushes/s", p50=lat["p50_us"] / 1e3,
                 p99=lat["p99_us"] / 1e3, p999=lat["p999_us"] / 1e3, span=span,
                 baseline="line_push_direct", target=">= 50% of line_push_direct, exactly once",
                 met=lambda r: (not invalid and exactly_once and r["ratio"] is not None and
                                r["ratio"] >= 0.5),
                 notes="; ".join(notes), extra=result)
        self.say(f"grpc_push: {result['rate']:.0f}/s p99 {lat['p99_us'] / 1e3:.1f} ms; "
                 f"{'; '.join(notes[1:])}")

    def run_push(self):
        """--push: only line_push_direct and grpc_push, on --push_oas freshly bound OAs."""
        oas = self.start_and_bind(self.args.push_oas)
        bindings = [l.split("\t") for l in (self.work / "bindings.tsv").read_text().splitlines()]
        self.bench_push(oas, bindings)
        self.stop_all()

    def start_and_bind(self, count):
        """Starts the fake LINE with `count` OAs and channeld, binds them all at once
        (bindings.tsv); returns the OA file."""
        channels, hooks = make_oas("hook", count, 1700000000, 100, self.rng)
        oas = self.work / "oas-hooks.tsv"
        oas.write_text("\n".join(hooks) + "\n")
        self.start_fake_line(channels)
        child = self.start_channeld(self.work / "data")
        self.say(f"{child.ready['line']} (auth token: {'yes' if self.token else 'no'}; "
                 f"fsyncs: {self.fsync.describe()})")
        burst = self.grpc_tool("bind_burst", [f"--oas={oas}", "--concurrency=0",
                                              f"--out={self.work / 'bindings.tsv'}"])
        self.say(f"bound {burst['bound']} OAs in {burst['seconds']:.1f}s")
        return oas

    def run_grpc_reads(self):
        """--grpc_reads: only grpc_health_h2load, grpc_GetWebhookUrl and grpc_GetChannel, on a
        few freshly bound OAs (with --profile, then a profile of each of the two reads)."""
        self.start_and_bind(10)
        bindings = [l.split("\t") for l in (self.work / "bindings.tsv").read_text().splitlines()]
        self.bench_grpc_reads(bindings[0])
        if self.args.profile:
            # The baseline's profile too: what the reads do beyond it is the gap to explain.
            self.profile_grpc_read("Check")
            self.profile_grpc_read("GetWebhookUrl")
            self.profile_grpc_read("GetChannel")
        self.stop_all()

    def run_ingest(self):
        """--ingest: only webhook_trivial, the SDK peer and the ingest rows, on 1,000 freshly
        bound OAs (for comparing store settings quickly; --channeld_flag passes them)."""
        self.start_and_bind(1000)
        self.bench_webhooks(kinds=("trivial", "ingest1", "ingest20"))
        self.stop_all()

    # -- connection floods (issue 16)

    def flood_tool(self, command, *args, **popen):
        return subprocess.Popen([sys.executable, str(HERE / "flood.py"), command, *args],
                                stdout=subprocess.PIPE, text=True, **popen)

    def metric_sum(self, prefix):
        admin = self.channeld.ready.get("admin")
        if not admin:
            return None
        text = urllib.request.urlopen(f"http://{admin}/metrics", timeout=10).read().decode()
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                   if line.startswith(prefix))

    def send_steady(self, name, rate, seconds):
        path, _ = self.make_requests(name, int(rate * seconds) + 1, 1)
        port = self.channeld.ready["webhook"].rsplit(":", 1)[1]
        sender = self.flood_tool("send", f"--port={port}", f"--requests={path}",
                                 f"--rate={rate}", f"--seconds={seconds}")
        out, _ = sender.communicate()
        return parse_bench_json(out)

    def bench_flood(self, data):
        """Memory of idle connections, then LINE-like webhooks at a steady rate without and
        with 5,000 slow connections (half drip-fed, half silent) against a cap of 2,000."""
        d = self.args.duration
        rate = self.args.flood_rate
        # A fresh channeld with the default cap: RSS grows by what the idle connections cost.
        self.stop_channeld()
        self.start_channeld(data)
        port = self.channeld.ready["webhook"].rsplit(":", 1)[1]
        count = self.args.flood_idle_connections
        before = proc_status_mb(self.channeld.pid, "VmRSS")
        idle = self.flood_tool("idle", f"--port={port}", f"--count={count}",
                               stdin=subprocess.PIPE)
        ready = idle.stdout.readline().split()
        time.sleep(1)
        after = proc_status_mb(self.channeld.pid, "VmRSS")
        held = int(ready[1]) if len(ready) == 2 else 0
        open_now = self.metric_sum('channeld_http_connections{server="webhook"')
        idle.stdin.close()
        idle.wait()
        per = (after - before) * 1024 * 1024 / max(1, held)
        self.row("webhook_idle_connection_rss", per, "B/conn", rss=after,
                 notes=(f"{held:,} kept-alive idle connections (one GET /healthz each, then "
                        f"nothing; {open_now:.0f} open per /metrics): RSS {before:.1f} -> "
                        f"{after:.1f} MB, +{per * 10000 / 1024 / 1024:.1f} MB per 10,000"),
                 extra={"before_mb": before, "after_mb": after, "connections": held})
        self.say(f"idle connections: {per:.0f} B each")

        self.stop_channeld()
        self.start_channeld(data, ["--webhook_max_connections=2000"])
        port = self.channeld.ready["webhook"].rsplit(":", 1)[1]
        with Span(self) as span:
            steady = self.send_steady("flood-baseline", rate, d)
        base = self.row("webhook_steady", rate, "req/s", p50=steady["p50_ms"],
                        p99=steady["p99_ms"], p999=steady["p999_ms"], span=span,
                        is_baseline=True, extra=steady,
                        notes=(f"signed 1-event webhooks at a steady {rate:.0f}/s, each on a new "
                               f"connection (as LINE sends them), no flood; statuses "
                               f"{steady['statuses']}"))
        self.say(f"webhook_steady: p99 {steady['p99_ms']:.1f} ms {steady['statuses']}")

        key = (self.work / "bindings.tsv").read_text().splitlines()[0].split("\t")[2]
        slow = self.flood_tool("slow", f"--port={port}", f"--path=/line/webhook/{key}",
                               f"--drip={self.args.flood_connections // 2}",
                               f"--silent={self.args.flood_connections - self.args.flood_connections // 2}")
        time.sleep(3)  # Let the flood fill the server before measuring.
        with Span(self) as span:
            flooded = self.send_steady("flood", rate, d)
        evicted = self.metric_sum('channeld_http_connections_evicted_total{server="webhook"')
        refused = self.metric_sum('channeld_http_connections_refused_total{server="webhook"')
        timed_out = self.metric_sum('channeld_http_connections_timed_out_total{server="webhook"')
        slow.send_signal(signal.SIGTERM)
        out, _ = slow.communicate()
        attack = parse_bench_json(out)
        ratio = flooded["p99_ms"] / max(base["p99_ms"], 1e-3)
        ok = flooded["statuses"].get("200", 0)
        self.row("webhook_flood_5000", rate, "req/s", p50=flooded["p50_ms"],
                 p99=flooded["p99_ms"], p999=flooded["p999_ms"], span=span,
                 baseline="webhook_steady", target="every webhook 200, p99 <= 2x webhook_steady",
                 met=ok == flooded["sent"] and ratio <= 2.0,
                 extra={**flooded, "attack": attack, "p99_ratio": ratio, "evicted": evicted,
                        "refused": refused, "timed_out": timed_out},
                 notes=(f"webhook p99 under flood / without: {flooded['p99_ms']:.1f} / "
                        f"{base['p99_ms']:.1f} ms = {ratio:.2f}x; statuses "
                        f"{flooded['statuses']}; {self.args.flood_connections:,} slow connections "
                        f"(half drip one header byte a second, half silent; reopened 2 s after "
                        f"a cut) against --webhook_max_connections=2000: opened "
                        f"{attack['opened']:,}, cut {attack['cut']:,}, answered "
                        f"{attack['answered']}; /metrics evicted {evicted:.0f}, refused "
                        f"{refused:.0f}, timed out {timed_out:.0f}"))
        self.say(f"webhook_flood_5000: p99 {flooded['p99_ms']:.1f} ms ({ratio:.2f}x) "
                 f"{flooded['statuses']} evicted {evicted:.0f}")

    def run_flood(self):
        channels, hooks = make_oas("hook", 100, 1700000000, 10, self.rng)
        (self.work / "oas-hooks.tsv").write_text("\n".join(hooks) + "\n")
        self.start_fake_line(channels)
        data = self.work / "data"
        self.start_channeld(data)
        self.grpc_tool("bind_burst", [f"--oas={self.work / 'oas-hooks.tsv'}", "--concurrency=0",
                                      f"--out={self.work / 'bindings.tsv'}"])
        self.bench_flood(data)
        self.stop_all()

    # -- profiles (optional, separate passes: sampling slows the server)

    PROFILE_FRAMES = re.compile(
        r"linechannel::|sqlite3_prepare_v2|sqlite3_exec\b|sqlite3_step|sqlite3WalFrames|"
        r"sqlite3WalCheckpoint|MessageToJsonString|HMAC|EVP_(En|De)crypt|simdjson|fdatasync|"
        r"__libc_sendmsg|__libc_recvmsg|__libc_write\b|__libc_read\b|tcp_sendmsg\b|"
        r"beast::http::detail::(read_some_op|write_op)<|grpc_call_start_batch|"
        r"CallbackUnaryHandler<.*>::RunHandler|malloc\b|_int_free\b")

    @staticmethod
    def _perf_lines(data, children):
        cmd = ["perf", "report", "-i", str(data), "--stdio", "-g", "none", "--sort", "symbol",
               "--percent-limit", "0.3", "--children" if children else "--no-children"]
        out = subprocess.run(cmd, capture_output=True, text=True, check=False).stdout
        rows = []
        for line in out.splitlines():
            m = re.match(r"^\s*([\d.]+)%\s+(?:([\d.]+)%\s+)?\[(.)\]\s+(.*?)(?:\s+-\s+-)?\s*$",
                         line)
            if m:
                rows.append((float(m.group(1)), m.group(4)[:140]))
        return rows

    def profile(self, name, load):
        """Samples channeld (perf, DWARF call graphs) while `load()` runs; returns the top 10
        functions by own time and the main frames by inclusive time."""
        if not shutil.which("perf"):
            return None
        data = self.work / f"perf-{name}.data"
        seconds = max(4, int(self.args.duration * 0.6))
        perf = subprocess.Popen(["perf", "record", "-F", "499", "-g", "--call-graph",
                                 "dwarf,16384", "-p", str(self.channeld.pid), "-o", str(data),
                                 "--", "sleep", str(seconds)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.3)
        load(seconds)
        perf.wait()
        self.say(f"profiled {name}; reading the samples ...")
        own = self._perf_lines(data, children=False)[:10]
        inclusive = [r for r in self._perf_lines(data, children=True)
                     if self.PROFILE_FRAMES.search(r[1])][:18]
        result = {"name": name, "self_top10": own, "inclusive": inclusive}
        self.profiles.append(result)
        return result

    def run_profiles(self):
        url = f"http://{self.channeld.ready['webhook']}"
        path, _ = self.make_requests("profile-ingest", int(self.args.ingest1_rate_cap *
                                                           self.args.duration), 1)
        self.profile("webhook_ingest_1ev", lambda s: run_wrk(self.lua, url, path, s))
        self.profile_grpc_read("GetChannel")

    def profile_grpc_read(self, method):
        """Profiles one RPC of bench_grpc_reads (GRPC_READS), sent as its row sends it."""
        grpc = self.channeld.ready["grpc"]
        path, body = GRPC_READS[method]
        self.profile(f"grpc_{method}", lambda s: run_h2load(
            grpc, path, self.work / f"grpc-{body}.bin", s,
            self.token if body != "health" else None, self.work / "h2load-profile.log",
            warmup=0))

    # -- modes

    def run_main(self):
        channels, hooks = make_oas("hook", 1000, 1700000000, 100, self.rng)
        c2, cycles = make_oas("cycle", 256, 1710000000, 256, self.rng)
        c3, storm = make_oas("storm", 1, 1720000000, 0, self.rng)
        for name, rows in (("hooks", hooks), ("cycles", cycles), ("storm", storm)):
            (self.work / f"oas-{name}.tsv").write_text("\n".join(rows) + "\n")
        self.start_fake_line(channels + c2 + c3)
        data = self.work / "data"
        child = self.start_channeld(data)
        self.say(f"{child.ready['line']} (auth token: {'yes' if self.token else 'no'}; "
                 f"fsyncs: {self.fsync.describe()})")
        self.bench_grpc_writes(self.work / "oas-hooks.tsv", self.work / "oas-cycles.tsv",
                               self.work / "oas-storm.tsv")
        bindings = [l.split("\t") for l in (self.work / "bindings.tsv").read_text().splitlines()]
        self.bench_grpc_reads(bindings[0])
        self.bench_push(self.work / "oas-hooks.tsv", bindings)
        self.bench_webhooks()
        if self.args.profile:
            self.run_profiles()
        self.bench_flood(data)
        self.stop_all()

    def run_store_compare(self):
        """--store=postgres: the webhook ingest and gRPC read rows, with their baselines, on
        (a) SQLite as in the main run, (b) PostgreSQL with one channeld and (c) the same
        database with two channeld replicas sharing the load; the PostgreSQL rows (suffix _pg1,
        _pg2) are also divided by the SQLite row of the same kind ("vs sqlite")."""
        channels, hooks = make_oas("hook", 1000, 1700000000, 100, self.rng)
        oas = self.work / "oas-hooks.tsv"
        oas.write_text("\n".join(hooks) + "\n")
        self.start_fake_line(channels)
        kinds = ("trivial", "ingest1", "ingest20")

        def bind(label):
            burst = self.grpc_tool("bind_burst", [f"--oas={oas}", "--concurrency=0",
                                                  f"--out={self.work / 'bindings.tsv'}"])
            self.notes.append(f"{label}: bound {burst['bound']} OAs at once in "
                              f"{burst['seconds']:.2f} s, outcomes {burst['outcomes']}")
            self.say(self.notes[-1])
            return [l.split("\t") for l in
                    (self.work / "bindings.tsv").read_text().splitlines()]

        # (a) SQLite, as the main run has it.
        child = self.start_channeld(self.work / "data")
        self.say(f"SQLite: {child.ready['line']} (fsyncs: {self.fsync.describe()})")
        bindings = bind("SQLite")
        self.bench_grpc_reads(bindings[0])
        self.bench_webhooks(kinds=kinds)
        self.stop_channeld()

        # (b) PostgreSQL, one channeld. Replicas share the key file and the callers file.
        # Set before start(), so that a failed or interrupted start is cleaned up too.
        self.pg = PgCluster(self.args.pg_bindir, self.args.pg_shared_buffers,
                            self.work / "postgres.log")
        self.pg.start()
        if os.stat(self.pg.dir).st_dev != os.stat(self.work).st_dev:
            self.notes.append(f"CAVEAT: PostgreSQL's data ({self.pg.dir}) and SQLite's "
                              f"({self.work}) are on different filesystems")
        self.say(f"PostgreSQL in {self.pg.dir} (shared_buffers {self.args.pg_shared_buffers}, "
                 f"fsync on, synchronous_commit on)")
        shared = [f"--database_url={self.pg.url()}",
                  f"--key_file={self.work / 'pg-sealing.key'}",
                  f"--callers_file={self.work / 'pg-callers'}"]
        first = self.start_channeld(self.work / "data-pg1", shared, log_name="channeld-pg1.log")
        self.say(f"PostgreSQL replica 1: {first.ready['line']} "
                 f"(commits: {self.fsync.describe()})")
        bindings = bind("PostgreSQL")
        self.bench_grpc_reads(bindings[0], suffix="_pg1", versus_suffix="")
        self.bench_webhooks(suffix="_pg1", kinds=kinds, versus_suffix="")

        # (c) A second replica on the same database; the load is split over both.
        second = self.start_channeld(self.work / "data-pg2", shared,
                                     log_name="channeld-pg2.log", primary=False)
        self.say(f"PostgreSQL replica 2: {second.ready['line']}")
        self.replicas = [first, second]
        self.log = ServerLogs([ServerLog(c.log_path) for c in self.replicas])
        if self.fsync.method == "metrics":
            self.fsync.admin = [c.ready["admin"] for c in self.replicas]
        self.bench_grpc_reads(bindings[0], suffix="_pg2", versus_suffix="")
        self.bench_webhooks(suffix="_pg2", kinds=kinds, versus_suffix="")
        self.notes.append(
            f"PostgreSQL {self.pg.sql('SHOW server_version')[0][0]}: private cluster, "
            f"fsync on, synchronous_commit on, shared_buffers {self.args.pg_shared_buffers}, "
            f"other settings default; Unix socket; same machine")
        self.stop_all()

    def run_scale(self):
        channels, hooks = make_oas("hook", 1000, 1700000000, 100, self.rng)
        (self.work / "oas-hooks.tsv").write_text("\n".join(hooks) + "\n")
        self.start_fake_line(channels)
        data = self.work / "data"
        self.start_channeld(data)
        burst = self.grpc_tool("bind_burst", [f"--oas={self.work / 'oas-hooks.tsv'}",
                                              "--concurrency=0",
                                              f"--out={self.work / 'bindings.tsv'}"])
        self.say(f"bound {burst['bound']} OAs in {burst['seconds']:.1f}s")

        def restarts(label):
            times, rss = [], []
            for _ in range(self.args.starts):
                self.stop_channeld()
                child = self.start_channeld(data)
                times.append(child.startup_s)
                time.sleep(0.5)
                rss.append(proc_status_mb(child.pid, "VmRSS"))
            self.say(f"start-up {label}: {times}")
            return statistics.median(times), max(times), times, rss[-1]

        empty_start, empty_max, empty_times, empty_rss = restarts("empty")
        self.row("startup_empty", empty_start, "s", is_baseline=True,
                 notes=f"median of {len(empty_times)} starts {empty_times}; RSS after start "
                       f"{empty_rss:.1f} MB", extra={"times": empty_times})
        self.bench_webhooks(suffix="_empty", kinds=("lookup", "ingest1"),
                            baseline_name=None)
        for r in self.rows:
            if r["name"] in ("webhook_lookup_empty", "webhook_ingest_1ev_empty"):
                r["is_baseline"], r["baseline"], r["ratio"], r["target"], r["met"] = (
                    True, None, None, None, None)
        events_empty = self.count_events(data)
        empty_peak = proc_status_mb(self.channeld.pid, "VmHWM")
        self.stop_channeld()

        self.say(f"filling the store to {self.args.scale_bindings} bindings and "
                 f"{self.args.scale_events} events ...")
        fill = run_tool(self.bin["fill_store"], [
            f"--data_dir={data}", f"--bindings={self.args.scale_bindings}",
            f"--events={self.args.scale_events}"])
        self.say(f"filled: {fill}")

        scale_start, scale_max, scale_times, scale_rss = restarts("scale")
        n = self.args.scale_bindings
        size = f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n // 1000}k"
        self.row(f"startup_{size}", scale_start, "s", baseline="startup_empty", target="< 2 s",
                 met=scale_max < 2.0,
                 notes=f"median of {len(scale_times)} starts {scale_times} (max counts)",
                 extra={"times": scale_times})
        reset_peak_rss(self.channeld.pid)
        self.bench_webhooks(suffix=f"_{size}", kinds=("lookup", "ingest1"), baseline_name=None)
        for r in self.rows:
            if r["name"] in (f"webhook_lookup_{size}", f"webhook_ingest_1ev_{size}"):
                base = r["name"].replace(f"_{size}", "_empty")
                base_row = next(x for x in self.rows if x["name"] == base)
                r["baseline"], r["is_baseline"] = base, False
                r["ratio"] = r["value"] / base_row["value"]
                r["target"] = "within 20% of the empty store (ratio >= 0.8)"
                r["met"] = r["ratio"] >= 0.8
        peak = proc_status_mb(self.channeld.pid, "VmHWM")
        self.row(f"rss_{size}", peak, "MB", baseline=None, target="< 300 MB",
                 met=peak is not None and peak < 300,
                 notes=f"channeld VmHWM over start-up and the {size} benchmarks; RSS just after "
                       f"start {scale_rss:.1f} MB; empty store: after start {empty_rss:.1f} MB, "
                       f"peak {empty_peak:.1f} MB")
        self.stop_channeld()
        db_bytes = sum(p.stat().st_size for p in data.glob("channeld.db*"))
        events = self.count_events(data)
        self.row("db_bytes_per_event", db_bytes / max(1, events), "B/event",
                 notes=f"{db_bytes / 2**30:.2f} GiB for {events} events and "
                       f"{self.count_bindings(data)} bindings (whole file incl. bindings and "
                       f"indexes); raw JSON {fill['avg_raw_json_bytes']:.0f} B/event on average; "
                       f"fill took {fill['total_seconds']:.0f} s",
                 extra={"fill": fill, "db_bytes": db_bytes, "events": events,
                        "events_empty": events_empty})
        self.stop_all()

    @staticmethod
    def query_one(data, sql):
        # Closed explicitly: an idle connection left to the garbage collector keeps a lock
        # that stops bench_fill_store from leaving WAL mode.
        import sqlite3
        db = sqlite3.connect(f"file:{data}/channeld.db?mode=ro", uri=True)
        try:
            return db.execute(sql).fetchone()[0] or 0
        finally:
            db.close()

    def count_events(self, data):
        return self.query_one(data, "SELECT max(seq) FROM events")

    def count_bindings(self, data):
        return self.query_one(data, "SELECT max(row_id) FROM bindings")

    # -- output

    def report(self, mode):
        versus = any(r.get("versus") for r in self.rows)
        peers = any(r.get("peer") for r in self.rows)
        header = ["name", "rate", "unit", "p50 ms", "p99 ms", "p999 ms", "RSS MB", "ratio",
                  "baseline", "target", "met"]
        if versus:
            header.insert(8, "vs sqlite")
        if peers:
            header.insert(8, "vs peer")
        table = []

        def num(v, digits=1):
            if v is None:
                return "-"
            if abs(v) >= 1000:
                return f"{v:,.0f}"
            return f"{v:.{digits}f}" if abs(v) >= 1 or v == 0 else f"{v:.3f}"

        for r in self.rows:
            cells = [r["name"], num(r["value"]), r["unit"], num(r["p50_ms"], 2),
                     num(r["p99_ms"], 2), num(r["p999_ms"], 2), num(r["peak_rss_mb"]),
                     "baseline" if r["is_baseline"] else
                     (f"{r['ratio']:.2f}" if r["ratio"] is not None else "-"),
                     r["baseline"] or "", r["target"] or "",
                     {True: "yes", False: "NO", None: ""}[r["met"]]]
            if versus:
                cells.insert(8, f"{r['versus_ratio']:.2f}" if r.get("versus_ratio") is not None
                             else "")
            if peers:
                cells.insert(8, f"{r['peer_ratio']:.2f}" if r.get("peer_ratio") is not None
                             else "")
            table.append(cells)
        widths = [max([len(h)] + [len(row[i]) for row in table]) for i, h in enumerate(header)]
        numeric = 7 + bool(versus) + bool(peers)  # the last right-aligned column
        lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)),
                 "  ".join("-" * w for w in widths)]
        for row in table:
            lines.append("  ".join(c.rjust(w) if 1 <= i <= numeric and i != 2 else c.ljust(w)
                                   for i, (c, w) in enumerate(zip(row, widths))))
        lines.append("")
        for r in self.rows:
            if r["notes"]:
                lines.append(f"{r['name']}: {r['notes']}")
        if self.fsync:
            lines.append(f"fsyncs counted with: {self.fsync.describe()}")
        for note in self.notes:
            lines.append(note)
        for p in self.profiles:
            lines.append(f"\nProfile of channeld during {p['name']} (perf, % of channeld's "
                         f"samples)\n  top 10 by own time:")
            lines += [f"  {pct:6.2f}%  {sym}" for pct, sym in p["self_top10"]]
            lines.append("  main frames by inclusive time:")
            lines += [f"  {pct:6.2f}%  {sym}" for pct, sym in p["inclusive"]]
        text = "\n".join(lines)
        print(text)

        out_dir = Path(self.args.out_dir).resolve()
        out_dir.mkdir(parents=True, exist_ok=True)
        tagged = mode in ("scale", "postgres", "push", "ingest", "grpc_reads")
        out = out_dir / f"{self.stamp}{'-' + mode if tagged else ''}.json"
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"],
                                capture_output=True, text=True, check=False).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain"],
                               capture_output=True, text=True, check=False).stdout.strip()
        document = {
            "mode": mode, "started": self.stamp,
            "seconds": round(time.monotonic() - self.started, 1),
            "machine": {"cpus": os.cpu_count(), "kernel": platform.release(),
                        "host": platform.node()},
            "commit": commit, "dirty": bool(dirty), "duration_per_benchmark_s": self.args.duration,
            "auth_token_used": bool(self.token), "nice": self.args.nice,
            "channeld_flags": self.args.channeld_flag, "fsync_method": self.fsync.describe()
            if self.fsync else None,
            "results": self.rows, "notes": self.notes, "profiles": self.profiles,
        }
        out.write_text(json.dumps(document, indent=2) + "\n")
        print(f"\nJSON: {out}")
        return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", action="store_true",
                        help="the scale run (1M bindings, 10M events; takes longer)")
    parser.add_argument("--duration", type=float, default=10, help="seconds per benchmark")
    parser.add_argument("--warmup", type=float, default=2,
                        help="seconds of the same load before each webhook and push benchmark, "
                             "not counted")
    parser.add_argument("--build_dir", default=str(ROOT / "build-bench"))
    parser.add_argument("--out_dir", default=str(ROOT / "tools" / "bench-results"),
                        help="where the JSON goes (tools/bench-results/ is in .gitignore)")
    parser.add_argument("--work_dir", default="", help="default <build_dir>/bench-work/<time>")
    parser.add_argument("--keep", action="store_true", help="keep the work dir (data, logs)")
    parser.add_argument("--seed", type=int, default=1)
    # Sized from idle 2-core machines (1-event ingest reached 42,000/s on an empty store, and
    # wrk's two threads each send their own half of the file, one ahead of the other): beyond
    # these rates wrk runs out of unique requests, repeats them and the row says WRAPPED.
    parser.add_argument("--ingest1_rate_cap", type=float, default=60000,
                        help="1-event requests generated per second of run (no repeats below)")
    parser.add_argument("--ingest20_rate_cap", type=float, default=8000)
    parser.add_argument("--lookup_rate_cap", type=float, default=90000)
    parser.add_argument("--profile", action="store_true",
                        help="after the benchmarks, profile channeld with perf on the webhook "
                             "ingest and GetChannel paths (separate passes) and print the top "
                             "functions")
    parser.add_argument("--scale_bindings", type=int, default=1_000_000)
    parser.add_argument("--scale_events", type=int, default=10_000_000)
    parser.add_argument("--fsync_method", default="auto",
                        choices=["auto", "metrics", "perf", "strace", "none"],
                        help="how to count fsyncs (auto: admin /metrics, else perf, else strace)")
    parser.add_argument("--nice", type=int, default=0,
                        help="scheduling priority for everything the run starts; e.g. -10 (root) "
                             "keeps other work on a shared machine from skewing the figures")
    parser.add_argument("--channeld_flag", action="append", default=[],
                        help="extra channeld flag, repeatable (e.g. --channeld_flag="
                             "--binding_cache_size=0 to measure without the binding cache)")
    parser.add_argument("--starts", type=int, default=3, help="start-ups timed per store")
    parser.add_argument("--ingest", action="store_true",
                        help="only the webhook ingest rows with their baselines (webhook_trivial, "
                             "the SDK peer) on 1,000 freshly bound OAs")
    parser.add_argument("--grpc_reads", action="store_true",
                        help="only the gRPC read rows (grpc_health_h2load, grpc_GetWebhookUrl, "
                             "grpc_GetChannel) on 10 freshly bound OAs; with --profile, then "
                             "a profile of each of the two read RPCs")
    parser.add_argument("--no_sdk_peer", dest="sdk_peer", action="store_false",
                        help="skip the webhook_sdk_peer rows (Node + @line/bot-sdk)")
    parser.add_argument("--flood", action="store_true",
                        help="only the connection-flood rows (webhook_idle_connection_rss, "
                             "webhook_steady, webhook_flood_5000)")
    parser.add_argument("--push", action="store_true",
                        help="only the push rows (line_push_direct, grpc_push) on --push_oas "
                             "freshly bound OAs")
    parser.add_argument("--push_oas", type=int, default=200,
                        help="bound OAs the push rows go round (each has channeld's "
                             "--outbound_per_binding_per_second, 100 by default)")
    parser.add_argument("--push_users", type=int, default=5,
                        help="users per OA made at the fake LINE for the push rows")
    parser.add_argument("--flood_rate", type=float, default=100,
                        help="webhooks per second in the flood rows")
    parser.add_argument("--flood_connections", type=int, default=5000)
    parser.add_argument("--flood_idle_connections", type=int, default=10000)
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite",
                        help="postgres: only the webhook ingest and gRPC read rows (with their "
                             "baselines), on SQLite, then PostgreSQL with 1 channeld, then 2 "
                             "channeld replicas on one database, in one table")
    parser.add_argument("--pg_bindir", default=os.environ.get("LINECHANNEL_PG_BINDIR") or
                        "/usr/lib/postgresql/15/bin",
                        help="initdb, pg_ctl and postgres for --store=postgres")
    parser.add_argument("--pg_shared_buffers", default="256MB",
                        help="the private PostgreSQL's shared_buffers (--store=postgres)")
    args = parser.parse_args()
    if args.nice:
        # Children (channeld, fake LINE, wrk, h2load) inherit it.
        os.setpriority(os.PRIO_PROCESS, 0, args.nice)
    bench = Bench(args)

    def interrupted(signum, frame):
        bench.stop_all()
        sys.exit(130)

    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
    mode = "scale" if args.scale else "flood" if args.flood else "push" if args.push else \
        "ingest" if args.ingest else "grpc_reads" if args.grpc_reads else \
        "postgres" if args.store == "postgres" else "main"
    try:
        bench.say(f"work dir {bench.work}")
        {"scale": bench.run_scale, "flood": bench.run_flood, "main": bench.run_main,
         "postgres": bench.run_store_compare, "push": bench.run_push,
         "ingest": bench.run_ingest, "grpc_reads": bench.run_grpc_reads}[mode]()
    except Exception as error:  # report what was measured, then fail
        bench.notes.append(f"ABORTED: {error}")
        print(f"bench: {error}", file=sys.stderr)
        bench.stop_all()
        bench.report(mode)
        return 1
    finally:
        bench.stop_all()
    bench.report(mode)
    if not args.keep:
        shutil.rmtree(bench.work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
