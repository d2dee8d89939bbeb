#!/usr/bin/env python
"""Benchmark: uploading a large file to COS, cos_multipart_upload against the field.

Peers (issue 3, Performance):
  * ibm_boto3 ``upload_file`` configured as ManageIQ does (TransferConfig: 5 MiB parts, 10 threads);
  * ibm_boto3 ``upload_file`` with the SDK's defaults (8 MiB parts, 10 threads);
  * ``amazon.aws.s3_object`` (mode put), run by ansible-playbook;
against ``vmimport.migrate.cos_multipart_upload`` run by ansible-playbook (the module
process, AnsiballZ and all, with the same Python), in two ways: computing the SHA-256
itself (one read of the file before the upload) and with ``sha256`` given, as the
powervc_to_powervs role runs it after the export step (the file is then read once, and
checked against it while uploading).

Endpoints:
  * moto: the sandbox COS peer (moto's S3 server, SigV4-checked HMAC keys); the server
    is the bottleneck there;
  * null: tests/benchmarks/null_s3.py, which computes ETags and keeps no data, so that
    the client is the bottleneck.

Measured for the process that uploads (the peer script, or the module's process, through
an interpreter wrapper that reads its rusage): wall time from its start to its exit
(interpreter start and imports included), throughput (file size / wall), CPU seconds
(user + system) per GiB, peak RSS. Then, on moto, a resume: the module is killed
(SIGKILL, whole process tree) once half of the file is stored, run again, and what it
sends again of what was already stored is reported.

On the null endpoint two reference rows (not peers, not ours) show the machine's limit: a
client with no SDK at all (raw http.client, Content-MD5 on each part, with and without
CRC32). The server's CPU per GiB and the cores busy ((client + server CPU) / wall) are
shown there too: client and server share the machine's cores.

Run: .venv/bin/python tests/benchmarks/bench_cos_upload.py [--sizes 1G,4G] [--endpoints moto,null]
     [--repeat 2] [--json results.json] [--clients miq,default,core_sha] [--no-resume]
     [--part-size 16M --concurrency 4 (our script clients; default: the module's defaults)]
Files are created in a temporary directory (--workdir) and deleted at the end. With
--repeat N each measurement is repeated N times (clients interleaved) and the best wall
time of each client is kept.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

MiB = 1024 * 1024
GiB = 1024 * MiB
PY = sys.executable
BIN = os.path.dirname(PY)
COLLECTIONS_PATH = os.environ.get("ANSIBLE_COLLECTIONS_PATH") or os.path.join(ROOT, ".build", "collections")

CLIENTS = [
    # name, kind (script: a Python process of its own; playbook: the module process run by
    # ansible-playbook, measured through an interpreter wrapper), variant
    ("ibm_boto3 ManageIQ 5MiBx10", "script", "miq"),
    ("ibm_boto3 defaults", "script", "default"),
    ("amazon.aws.s3_object [pb]", "playbook", "s3_object"),
    ("ours +sha256", "script", "core_sha"),
    ("ours, sha256 computed", "script", "core"),
    ("ours +sha256 verify", "script", "core_verify"),
    ("ours +sha256 no crc32", "script", "core_nocrc"),
    ("ours +sha256 [pb]", "playbook", "ours_sha"),
    ("ref: raw HTTP, MD5 (no SDK)", "script", "ceiling"),
    ("ref: raw HTTP, MD5+CRC32", "script", "ceiling_crc"),
]
OURS = ("core_sha", "core", "core_verify", "core_nocrc", "ours_sha")
# Not peers, not ours: the machine's limit on the null endpoint. A client with no SDK, no
# signing, no retries, no resume: raw http.client, parts read with os.preadv into reused
# buffers, Content-MD5 on each part (and CRC32 for the second one, as our default sends),
# 16 MiB x 4 in parallel. Whatever a real client adds comes on top of these figures.
REFERENCE = ("ceiling", "ceiling_crc")
# The targets are checked on the module's code run like the ibm_boto3 peers (a Python process
# of its own, same interpreter) and the way the powervc_to_powervs role runs it: with the
# SHA-256 of the export step. The other ways are measured and shown too; "[pb]" rows run
# through ansible-playbook, whose controller competes for the CPU while the module runs.
PRIMARY = "core_sha"


# ---------------------------------------------------------------------------
# the peer clients (this script, run as a child with --client)
# ---------------------------------------------------------------------------

def run_core_client(args):
    """cos_multipart_upload's module_utils, with the module's defaults, in this process."""
    sys.path.insert(0, COLLECTIONS_PATH)
    from ansible_collections.vmimport.migrate.plugins.module_utils import cos

    crc = args.client != "core_nocrc"  # the module's default: request_checksum_calculation=when_supported
    params = {"endpoint_url": os.environ["BENCH_ENDPOINT"], "access_key_id": os.environ["BENCH_AK"],
              "secret_access_key": os.environ["BENCH_SK"], "retries": 8, "timeout": 300,
              "request_checksum_calculation": "when_supported" if crc else "when_required"}
    client = cos.build_client(params, max_pool_connections=cos.DEFAULT_CONCURRENCY + 2)
    sha = os.environ.get("BENCH_SHA256") if args.client in ("core_sha", "core_verify", "core_nocrc") else None
    tuning = {}  # --part-size / --concurrency of the benchmark: the module's defaults unless given
    if os.environ.get("BENCH_PART_SIZE"):
        tuning["part_size"] = int(os.environ["BENCH_PART_SIZE"])
    if os.environ.get("BENCH_CONCURRENCY"):
        tuning["concurrency"] = int(os.environ["BENCH_CONCURRENCY"])
    task = cos.UploadTask(client, os.environ["BENCH_BUCKET"], args.key, args.file, sha256=sha, **tuning,
                          verify_sha256=args.client == "core_verify", endpoint=params["endpoint_url"], crc32=crc)
    print(json.dumps({"result": task.run()}))  # CPU, wall and RSS: read by the rusage wrapper
    return 0


def run_ceiling_client(args):
    """The reference client (see REFERENCE): the least work an upload with Content-MD5 can do."""
    import base64
    import hashlib
    import http.client
    import re
    import threading
    import zlib
    from urllib.parse import urlsplit

    url = urlsplit(os.environ["BENCH_ENDPOINT"])
    base = "/%s/%s" % (os.environ["BENCH_BUCKET"], args.key)
    part_size, workers = 16 * MiB, 4
    size = os.path.getsize(args.file)
    nparts = max(1, -(-size // part_size))

    def call(conn, method, path, body=b"", headers=None):
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        if resp.status != 200:
            raise RuntimeError("%s %s: %s %s" % (method, path, resp.status, data[:200]))
        return resp, data

    conn = http.client.HTTPConnection(url.hostname, url.port)
    _, data = call(conn, "POST", base + "?uploads")
    upload_id = re.search(rb"<UploadId>([^<]+)</UploadId>", data).group(1).decode()
    etags, lock, errors = {}, threading.Lock(), []
    todo = iter(range(1, nparts + 1))
    fd = os.open(args.file, os.O_RDONLY)

    def worker():
        c = http.client.HTTPConnection(url.hostname, url.port)
        buf = bytearray(part_size)
        try:
            while True:
                with lock:
                    n = next(todo, None)
                if n is None:
                    return
                got = os.preadv(fd, [buf], (n - 1) * part_size)
                view = memoryview(buf)[:got]
                headers = {"Content-Length": str(got),
                           "Content-MD5": base64.b64encode(hashlib.md5(view).digest()).decode()}
                if args.client == "ceiling_crc":
                    headers["x-amz-checksum-crc32"] = base64.b64encode(zlib.crc32(view).to_bytes(4, "big")).decode()
                resp, _ = call(c, "PUT", "%s?partNumber=%d&uploadId=%s" % (base, n, upload_id), view, headers)
                etags[n] = resp.getheader("ETag")
        except Exception as e:  # reported by the main thread
            errors.append(e)
        finally:
            c.close()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    os.close(fd)
    if errors:
        raise errors[0]
    body = "<CompleteMultipartUpload>%s</CompleteMultipartUpload>" % "".join(
        "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>" % (n, etags[n]) for n in sorted(etags))
    call(conn, "POST", "%s?uploadId=%s" % (base, upload_id), body.encode())
    return 0


def run_peer_client(args):
    if args.client.startswith("core"):
        return run_core_client(args)
    if args.client in REFERENCE:
        return run_ceiling_client(args)
    import ibm_boto3
    from ibm_boto3.s3.transfer import TransferConfig
    from ibm_botocore.config import Config

    s3 = ibm_boto3.client("s3", endpoint_url=os.environ["BENCH_ENDPOINT"], region_name="us-east-1",
                          aws_access_key_id=os.environ["BENCH_AK"], aws_secret_access_key=os.environ["BENCH_SK"],
                          config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
    if args.client == "miq":
        # ManageIQ's upload script: TransferManager with 5 MiB parts and the default 10 threads
        tc = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=10)
    else:
        tc = TransferConfig()
    s3.upload_file(args.file, os.environ["BENCH_BUCKET"], args.key, Config=tc)
    return 0


# ---------------------------------------------------------------------------
# endpoints
# ---------------------------------------------------------------------------

class Endpoint(object):
    name = None
    url = ak = sk = bucket = None

    def cpu(self):
        return None

    def delete(self, key):
        pass

    def stop(self):
        pass


class MotoEndpoint(Endpoint):
    name = "moto"

    def __init__(self, workdir):
        from sandbox.launcher import Sandbox
        self.sb = Sandbox(only=["cos"], state_dir=os.path.join(workdir, "sandbox"), log=None)
        self.sb.up()
        peer = self.sb.ctx.peers["cos"]
        self.client = peer.client()
        v = peer.inventory()
        self.url, self.ak, self.sk, self.bucket = (v["cos_endpoint_url"], v["cos_access_key_id"],
                                                   v["cos_secret_access_key"], v["cos_bucket"])

    def delete(self, key):
        self.client.delete_object(Bucket=self.bucket, Key=key)
        for u in self.client.list_multipart_uploads(Bucket=self.bucket, Prefix=key).get("Uploads", []):
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=u["Key"], UploadId=u["UploadId"])

    def stored_bytes(self, key):
        ups = [u for u in self.client.list_multipart_uploads(Bucket=self.bucket, Prefix=key).get("Uploads", [])
               if u["Key"] == key]
        total = 0
        for u in ups:
            kw = dict(Bucket=self.bucket, Key=key, UploadId=u["UploadId"])
            while True:
                r = self.client.list_parts(**kw)
                total += sum(p["Size"] for p in r.get("Parts", []))
                if not r.get("IsTruncated"):
                    break
                kw["PartNumberMarker"] = r["NextPartNumberMarker"]
        return total, len(ups)

    def stop(self):
        self.sb.down()


class NullEndpoint(Endpoint):
    name = "null"

    def __init__(self, workdir):
        self.proc = subprocess.Popen([PY, os.path.join(HERE, "null_s3.py"), "--port", "0"], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        line = self.proc.stdout.readline().decode().split()
        if not line or line[0] != "ready":
            raise RuntimeError("null_s3.py did not start: %s" % line)
        self.url = "http://127.0.0.1:%s" % line[1]
        self.ak, self.sk, self.bucket = "null-access-key", "null-secret-key", "bench"

    def cpu(self):
        """CPU seconds (user + system) the server has used so far."""
        import psutil
        t = psutil.Process(self.proc.pid).cpu_times()
        return t.user + t.system

    def stop(self):
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(10)


# ---------------------------------------------------------------------------
# runs
# ---------------------------------------------------------------------------

def make_file(path, size):
    """Incompressible data, every MiB different (a counter in front), written once."""
    block = os.urandom(16 * MiB)
    with open(path, "wb") as f:
        done = 0
        while done < size:
            n = min(len(block), size - done)
            chunk = bytearray(block[:n])
            for off in range(0, n, MiB):
                chunk[off:off + 16] = ((done + off) // MiB).to_bytes(16, "big")
            f.write(chunk)
            done += n


def sha256_of(path):
    import hashlib
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(8 * MiB), b""):
            h.update(chunk)
    return h.hexdigest()


class Bench(object):
    def __init__(self, workdir, part_size=None, concurrency=None):
        self.workdir = workdir
        self.tuning = {}
        if part_size:
            self.tuning["BENCH_PART_SIZE"] = str(part_size)
        if concurrency:
            self.tuning["BENCH_CONCURRENCY"] = str(concurrency)
        self.rusage_log = os.path.join(workdir, "rusage.jsonl")
        self.wrapper = os.path.join(workdir, "python-rusage")
        with open(self.wrapper, "w") as f:
            f.write("#!%s\n" % PY)
            f.write("import json, resource, subprocess, sys, time\n"
                    "t0 = time.time()\n"
                    "rc = subprocess.call([%r] + sys.argv[1:])\n"
                    "ru = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
                    "with open(%r, 'a') as f:\n"
                    "    f.write(json.dumps({'wall': time.time() - t0, 'utime': ru.ru_utime, 'stime': ru.ru_stime,\n"
                    "                        'maxrss_kib': ru.ru_maxrss, 'argv': sys.argv[1:]}) + '\\n')\n"
                    "sys.exit(rc)\n" % (PY, self.rusage_log))
        os.chmod(self.wrapper, 0o755)
        self.inventory = os.path.join(workdir, "inventory.yml")
        with open(self.inventory, "w") as f:
            f.write("all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
                    "      ansible_python_interpreter: %s\n" % self.wrapper)

    def _env(self, ep):
        env = dict(os.environ, BENCH_ENDPOINT=ep.url, BENCH_AK=ep.ak, BENCH_SK=ep.sk, BENCH_BUCKET=ep.bucket,
                   ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_PATH, ANSIBLE_STDOUT_CALLBACK="json",
                   ANSIBLE_LOCAL_TEMP=os.path.join(self.workdir, "ansible-tmp"), ANSIBLE_NOCOLOR="1",
                   PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
        env.pop("ANSIBLE_CALLBACK_RESULT_FORMAT", None)
        env.update(self.tuning)
        return env

    def _playbook(self, ep, variant, path, key, sha=None, progress=None):
        if variant == "s3_object":
            task = {"amazon.aws.s3_object": {
                "endpoint_url": "{{ lookup('env', 'BENCH_ENDPOINT') }}", "region": "us-east-1",
                "access_key": "{{ lookup('env', 'BENCH_AK') }}", "secret_key": "{{ lookup('env', 'BENCH_SK') }}",
                "bucket": "{{ lookup('env', 'BENCH_BUCKET') }}", "object": key, "src": path, "mode": "put"}}
        else:
            args = {"endpoint_url": "{{ lookup('env', 'BENCH_ENDPOINT') }}",
                    "access_key_id": "{{ lookup('env', 'BENCH_AK') }}",
                    "secret_access_key": "{{ lookup('env', 'BENCH_SK') }}",
                    "bucket": "{{ lookup('env', 'BENCH_BUCKET') }}", "key": key, "src": path}
            if variant in ("ours_sha", "ours_verify"):
                args["sha256"] = sha
            if variant == "ours_verify":
                args["verify_sha256"] = True
            if progress:
                args["progress_file"] = progress
            task = {"vmimport.migrate.cos_multipart_upload": args}
        pb = os.path.join(self.workdir, "bench-%s.yml" % uuid.uuid4().hex[:8])
        with open(pb, "w") as f:
            json.dump([{"hosts": "localhost", "gather_facts": False, "tasks": [dict(task, name="upload")]}], f)
        return pb

    def _client_rusage(self, since, marker="AnsiballZ_"):
        """The wrapper's record of the one process (module or script client) run since line ``since``."""
        with open(self.rusage_log) as f:
            lines = f.readlines()[since:]
        recs = [json.loads(x) for x in lines]
        recs = [r for r in recs if any(marker in a for a in r["argv"])]
        if len(recs) != 1:
            raise RuntimeError("expected one client process, got %d" % len(recs))
        return recs[0]

    def _log_len(self):
        if not os.path.exists(self.rusage_log):
            return 0
        with open(self.rusage_log) as f:
            return len(f.readlines())

    def run(self, ep, variant, kind, path, size, sha):
        key = "bench/%s-%s" % (variant, uuid.uuid4().hex[:8])
        env = self._env(ep)
        env["BENCH_SHA256"] = sha
        server_cpu0 = ep.cpu()
        if kind == "script":
            # through the small wrapper, like the module's process: Linux carries a process's peak
            # RSS over fork + exec, so a client started from this (large) process would report ours
            since = self._log_len()
            out = subprocess.run([self.wrapper, os.path.abspath(__file__), "--client", variant, "--file", path,
                                  "--key", key], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
            if out.returncode:
                raise RuntimeError("%s failed: %s" % (variant, out.stderr.decode()[-2000:]))
            printed = out.stdout.decode().strip().splitlines()
            result = json.loads(printed[-1])["result"] if variant in OURS else {}
            ru = self._client_rusage(since, "--client")
            wall = ru["wall"]
        else:
            since = self._log_len()
            pb = self._playbook(ep, variant, path, key, sha=sha)
            out = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", self.inventory, pb], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
            if out.returncode:
                raise RuntimeError("%s failed: %s %s" % (variant, out.stdout.decode()[-3000:], out.stderr.decode()[-1000:]))
            ru = self._client_rusage(since)
            wall = ru["wall"]
            result = json.loads(out.stdout.decode())["plays"][0]["tasks"][0]["hosts"]["localhost"]
        if variant in OURS and (not result.get("changed") or result.get("sha256") != sha):
            raise RuntimeError("%s did not upload the file right: %s" % (variant, result))
        server_cpu = ep.cpu() - server_cpu0 if server_cpu0 is not None else None
        ep.delete(key)
        cpu = ru["utime"] + ru["stime"]
        return {"client": variant, "endpoint": ep.name, "size": size, "wall": wall, "cpu": cpu,
                "cpu_per_gib": cpu / (size / GiB), "throughput_mib": size / wall / MiB,
                "server_cpu_per_gib": server_cpu / (size / GiB) if server_cpu is not None else None,
                "cores_busy": (cpu + server_cpu) / wall if server_cpu is not None else None,
                "peak_rss_mib": ru["maxrss_kib"] / 1024.0, "utime": ru["utime"], "stime": ru["stime"],
                "module_result": {k: result.get(k) for k in ("seconds", "throughput", "parts", "part_size")}}

    def resume(self, ep, path, size, sha):
        """Kill the module once half of the file is stored, run it again; what is sent twice?"""
        key = "bench/resume-%s" % uuid.uuid4().hex[:8]
        env = self._env(ep)
        progress = os.path.join(self.workdir, "progress-%s.jsonl" % uuid.uuid4().hex[:6])
        pb = self._playbook(ep, "ours_sha", path, key, sha=sha, progress=progress)
        proc = subprocess.Popen([os.path.join(BIN, "ansible-playbook"), "-i", self.inventory, pb], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import psutil
        deadline = time.time() + 600
        sent_at_kill = 0
        while time.time() < deadline and proc.poll() is None:
            try:
                with open(progress) as f:
                    events = [json.loads(x) for x in f if x.strip()]
            except (IOError, ValueError):
                events = []
            if events and events[-1].get("bytes_sent", 0) >= size // 2:
                sent_at_kill = events[-1]["bytes_sent"]
                procs = psutil.Process(proc.pid).children(recursive=True) + [psutil.Process(proc.pid)]
                for p in procs:
                    try:
                        p.send_signal(signal.SIGKILL)
                    except psutil.NoSuchProcess:
                        pass
                break
            time.sleep(0.02)
        proc.wait(60)
        if not sent_at_kill:
            raise RuntimeError("the upload ended before half of it was sent")
        time.sleep(0.5)
        stored, uploads = ep.stored_bytes(key)
        pb2 = self._playbook(ep, "ours_sha", path, key, sha=sha)
        out = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", self.inventory, pb2], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        if out.returncode:
            raise RuntimeError("resume run failed: %s" % out.stdout.decode()[-3000:])
        res = json.loads(out.stdout.decode())["plays"][0]["tasks"][0]["hosts"]["localhost"]
        ep.delete(key)
        resent = res["bytes_sent"] - (size - stored)
        return {"size": size, "part_size": res["part_size"], "sent_before_kill": sent_at_kill,
                "stored_at_kill": stored, "incomplete_uploads": uploads, "resumed": res["resumed"],
                "bytes_sent_second_run": res["bytes_sent"], "resent_of_stored": resent,
                "resent_parts": resent / float(res["part_size"]), "second_run_seconds": res["seconds"]}


# ---------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------

def best(runs):
    """Best (lowest wall) run per (endpoint, size, client)."""
    out = {}
    for r in runs:
        k = (r["endpoint"], r["size"], r["client"])
        if k not in out or r["wall"] < out[k]["wall"]:
            out[k] = r
    return out


def report(runs, resumes, names):
    b = best(runs)
    lines, verdicts = [], []
    combos = sorted(set((r["endpoint"], r["size"]) for r in runs), key=lambda x: (x[0] != "moto", x[1]))
    for ep, size in combos:
        rows = [b[k] for k in b if k[0] == ep and k[1] == size]
        peers = [r for r in rows if r["client"] not in OURS + REFERENCE]
        if not peers:
            continue
        fastest = min(peers, key=lambda r: r["wall"])
        cheapest = min(peers, key=lambda r: r["cpu_per_gib"])
        lines.append("")
        lines.append("endpoint %s, %s file (fastest peer: %s, least CPU: %s)"
                     % (ep, "%d GiB" % (size // GiB) if size % GiB == 0 else "%d MiB" % (size // MiB),
                        names[fastest["client"]], names[cheapest["client"]]))
        server = rows[0].get("server_cpu_per_gib") is not None
        lines.append("  %-30s %8s %9s %8s %9s %8s %10s %5s%s" % (
            "client", "wall s", "MiB/s", "x speed", "CPU s/GiB", "x CPU", "RSS MiB", "runs",
            " %10s %6s" % ("srv s/GiB", "cores") if server else ""))
        order = [c for _, _, c in CLIENTS]
        for r in sorted(rows, key=lambda r: order.index(r["client"])):
            n = sum(1 for x in runs if (x["endpoint"], x["size"], x["client"]) == (ep, size, r["client"]))
            lines.append("  %-30s %8.2f %9.1f %8.2f %9.2f %8.2f %10.1f %5d%s" % (
                names[r["client"]], r["wall"], r["throughput_mib"], fastest["wall"] / r["wall"],
                r["cpu_per_gib"], r["cpu_per_gib"] / cheapest["cpu_per_gib"], r["peak_rss_mib"], n,
                " %10.2f %6.2f" % (r["server_cpu_per_gib"], r["cores_busy"]) if server else ""))
        if server:
            lines.append("  srv s/GiB: the null server's CPU per GiB (it computes every part's MD5 for its ETag); "
                         "cores: (client + server CPU) / wall, of %d" % os.cpu_count())
        for o in REFERENCE:
            r = b.get((ep, size, o))
            if r is not None:
                verdicts.append(("%s, null, %s: throughput %.2fx fastest peer (the machine's limit, for information)"
                                 % (names[o], human(size), r["throughput_mib"] / fastest["throughput_mib"]), None, False))
        for o in OURS:
            r = b.get((ep, size, o))
            if r is None:
                continue
            if ep == "moto":
                verdicts.append(("%s, moto, %s: wall %.2fs <= fastest peer %.2fs" % (names[o], human(size), r["wall"],
                                 fastest["wall"]), r["wall"] <= fastest["wall"], o == PRIMARY))
            else:
                ratio = r["throughput_mib"] / fastest["throughput_mib"]
                verdicts.append(("%s, null, %s: throughput %.2fx fastest peer (>= 1.3x)" % (names[o], human(size), ratio),
                                 ratio >= 1.3, o == PRIMARY))
                verdicts.append(("%s, null, %s: CPU %.2f s/GiB <= least peer %.2f" % (names[o], human(size),
                                 r["cpu_per_gib"], cheapest["cpu_per_gib"]), r["cpu_per_gib"] <= cheapest["cpu_per_gib"],
                                 o == PRIMARY))
    for o in OURS:
        rss = sorted((size, max(r["peak_rss_mib"] for r in runs if r["client"] == o and r["size"] == size))
                     for size in set(r["size"] for r in runs if r["client"] == o))
        if rss:
            worst = max(x[1] for x in rss)
            flat = (rss[-1][1] - rss[0][1]) <= 10 if len(rss) > 1 else True
            verdicts.append(("%s: peak RSS %s (< 150 MiB, flat within 10 MiB)"
                             % (names[o], ", ".join("%.1f MiB at %s" % (m, human(s)) for s, m in rss)),
                             worst < 150 and flat, o == PRIMARY))
    for res in resumes:
        lines.append("")
        lines.append("resume on moto, %s: killed with %.0f MiB sent, %.0f MiB stored; second run sent %.0f MiB "
                     "(%.1f s); re-sent of what was stored: %d bytes (%.2f parts of %d MiB)" % (
                         human(res["size"]), res["sent_before_kill"] / MiB, res["stored_at_kill"] / MiB,
                         res["bytes_sent_second_run"] / MiB, res["second_run_seconds"], res["resent_of_stored"],
                         res["resent_parts"], res["part_size"] // MiB))
        lines.append("  peers: no resume (an interrupted upload_file / s3_object starts over: 100%% of it is sent again)")
        verdicts.append(("resume after 50%% (%s): re-sent %.2f parts (<= 1)" % (human(res["size"]), res["resent_parts"]),
                         res["resumed"] and res["resent_parts"] <= 1, True))
    lines.append("")
    lines.append("targets, checked on '%s' (the module's code in a Python process of its own like the ibm_boto3 "
                 "peers, with the SHA-256 of the export step as the powervc_to_powervs role passes it); "
                 "lower case: the other ways, for information:" % names[PRIMARY])
    for text, ok, primary in sorted(verdicts, key=lambda v: not v[2]):
        lines.append("  [%s] %s" % (("PASS" if ok else "FAIL") if primary else "info" if ok is None
                                     else "pass" if ok else "miss", text))
    return "\n".join(lines), all(ok for _, ok, primary in verdicts if primary)


def human(size):
    return "%d GiB" % (size // GiB) if size % GiB == 0 else "%d MiB" % (size // MiB)


def parse_sizes(text):
    out = []
    for s in text.split(","):
        s = s.strip().upper().replace("IB", "").replace("B", "")
        mult = {"G": GiB, "M": MiB}.get(s[-1:], 1)
        out.append(int(s[:-1] if s[-1:] in "GM" else s) * mult)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1G,4G", help="file sizes, e.g. 1G,4G or 256M (default 1G,4G)")
    ap.add_argument("--endpoints", default="moto,null", help="moto,null (default both)")
    ap.add_argument("--clients", default=",".join(c[2] for c in CLIENTS),
                    help="subset of %s" % ",".join(c[2] for c in CLIENTS))
    ap.add_argument("--repeat", type=int, default=1, help="runs per measurement; the best wall time is kept")
    ap.add_argument("--no-resume", action="store_true", help="skip the resume measurement")
    ap.add_argument("--part-size", default=None, help="part size for our script clients, e.g. 16M "
                    "(default: the module's)")
    ap.add_argument("--concurrency", type=int, default=None, help="parallel parts for our script clients "
                    "(default: the module's)")
    ap.add_argument("--workdir", default=None, help="where to create the files (default: a temporary directory)")
    ap.add_argument("--json", default=None, help="write every run to this file")
    ap.add_argument("--client", help=argparse.SUPPRESS)
    ap.add_argument("--file", help=argparse.SUPPRESS)
    ap.add_argument("--key", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.client:
        return run_peer_client(args)

    try:
        sizes = parse_sizes(args.sizes)
        part_size = parse_sizes(args.part_size)[0] if args.part_size else None
    except (ValueError, IndexError):
        ap.error("--sizes and --part-size take sizes such as 1G, 256M or 16M")
    wanted = args.clients.split(",")
    clients = [c for c in CLIENTS if c[2] in wanted]
    names = dict((c[2], c[0]) for c in CLIENTS)
    workdir = tempfile.mkdtemp(prefix="bench-cos-", dir=args.workdir)
    bench = Bench(workdir, part_size=part_size, concurrency=args.concurrency)
    runs, resumes, endpoints = [], [], []
    print("bench_cos_upload: %s; sizes %s; %d cores; load %s" % (
        " ".join([os.path.basename(PY)] + (argv or sys.argv[1:])), ",".join(human(s) for s in sizes),
        os.cpu_count(), " ".join("%.2f" % x for x in os.getloadavg())))
    try:
        for size in sizes:
            path = os.path.join(workdir, "file-%d" % size)
            make_file(path, size)
            sha = sha256_of(path)
            for name in args.endpoints.split(","):
                ep = MotoEndpoint(workdir) if name == "moto" else NullEndpoint(workdir)
                endpoints.append(ep)
                try:
                    for rep in range(args.repeat):
                        for cname, kind, variant in clients:
                            if variant in REFERENCE and name != "null":
                                continue  # no SigV4 signing: the null endpoint only
                            r = bench.run(ep, variant, kind, path, size, sha)
                            r["repeat"] = rep
                            runs.append(r)
                            print("  %-5s %-8s %-30s wall %7.2fs %8.1f MiB/s cpu %6.2f s/GiB rss %6.1f MiB" % (
                                ep.name, human(size), cname, r["wall"], r["throughput_mib"], r["cpu_per_gib"],
                                r["peak_rss_mib"]), flush=True)
                    if name == "moto" and not args.no_resume and size == sizes[0]:
                        res = bench.resume(ep, path, size, sha)
                        resumes.append(res)
                        print("  moto  %-8s resume: re-sent %d bytes of what was stored" % (human(size),
                              res["resent_of_stored"]), flush=True)
                finally:
                    ep.stop()
                    endpoints.remove(ep)
            os.unlink(path)
    finally:
        for ep in endpoints:
            ep.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    text, ok = report(runs, resumes, names)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"runs": runs, "resumes": resumes, "argv": sys.argv[1:], "cores": os.cpu_count()}, f, indent=2)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
