#!/usr/bin/env python
"""Benchmark: listing vSphere VMs, vsphere_unmanaged_facts against community.vmware.vmware_vm_info.

Issue 4, Performance: whole ``ansible-playbook`` runs of ``vmimport.migrate.vsphere_unmanaged_facts``
and ``community.vmware.vmware_vm_info`` (from the ``ansible`` package, default options) against the
same sandbox vcsim, at 500 and 2,000 VMs. For each run: wall seconds of the ansible-playbook
process (start to exit, interpreter start included), the number of HTTP requests vcsim served
(its request counter, reset before each run; SOAP calls by method are in the JSON output), and the
number of VMs the module returned. Target: ours at least 10x faster at 2,000 VMs, and a request
count that does not depend on the number of VMs.

Each size gets its own vcsim (sandbox/peers/vcsim.py, built once into .cache/vcsim): one datacenter,
2 clusters of 4 hosts and 2 standalone hosts (10 hosts), VMs spread evenly over the hosts, 2
templates, standard, distributed, PVLAN and trunk portgroups, the showcase VMs reconfigured.

Run: PATH=.venv/bin:$PATH .venv/bin/python tests/benchmarks/bench_vsphere_facts.py [--sizes 500,2000]
     [--repeat 1] [--modules ours,vm_info] [--page-size N] [--json tests/benchmarks/results/vsphere_facts.json]
With --repeat N each module runs N times per size (interleaved) and the best wall time is kept.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from sandbox.peers.base import Context  # noqa: E402
from sandbox.peers.vcsim import VcsimPeer  # noqa: E402

HOSTS = 10  # 2 clusters x 4 hosts + 2 standalone hosts
COLLECTIONS = os.environ.get("VMIMPORT_COLLECTIONS_PATH", os.path.join(ROOT, ".build", "collections"))

MODULES = {
    "ours": ("vmimport.migrate.vsphere_unmanaged_facts", "instances",
             "{{ r.instances | length }}+{{ r.templates | length }}"),
    "vm_info": ("community.vmware.vmware_vm_info", "virtual_machines", "{{ r.virtual_machines | length }}"),
}


def playbook(module, page_size):
    args = {"hostname": "{{ vcenter_hostname }}", "port": "{{ vcenter_port }}",
            "username": "{{ vcenter_username }}", "password": "{{ vcenter_password }}",
            "validate_certs": False}
    name, count = MODULES[module][0], MODULES[module][2]
    if module == "ours" and page_size:
        args["page_size"] = page_size
    return [{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "list", name: args, "register": "r"},
        {"name": "count", "ansible.builtin.debug": {"msg": "VMCOUNT=" + count}},
    ]}]


def run_playbook(workdir, peer, module, page_size):
    inv = os.path.join(workdir, "inventory-%s.yml" % peer.name)
    with open(inv, "w") as f:
        yaml.safe_dump({"all": {"hosts": {"localhost": {"ansible_connection": "local",
                                                        "ansible_python_interpreter": sys.executable}},
                                "vars": peer.inventory()}}, f)
    pb = os.path.join(workdir, "%s.yml" % module)
    with open(pb, "w") as f:
        yaml.safe_dump(playbook(module, page_size), f)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1",
               ANSIBLE_HOST_KEY_CHECKING="False", ANSIBLE_RETRY_FILES_ENABLED="False",
               ANSIBLE_LOCAL_TEMP=os.path.join(workdir, "tmp"))
    playbook_bin = (shutil.which("ansible-playbook")
                    or os.path.join(os.path.dirname(sys.executable), "ansible-playbook"))
    peer.reset_stats()
    t0 = time.monotonic()
    proc = subprocess.run([playbook_bin, "-i", inv, pb], env=env, capture_output=True, text=True, check=False)
    wall = time.monotonic() - t0
    stats = peer.stats()
    if proc.returncode != 0:
        raise SystemExit("%s failed on %s:\n%s" % (module, peer.name, (proc.stdout + proc.stderr)[-3000:]))
    m = re.search(r"VMCOUNT=([0-9+]+)", proc.stdout)
    count = sum(int(n) for n in m.group(1).split("+")) if m else None  # "N+M" (instances + templates) or "N"
    return {"wall": wall, "requests": stats["requests"], "methods": stats["methods"], "vms": count}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="500,2000", help="VM counts (multiples of %d)" % HOSTS)
    p.add_argument("--modules", default="ours,vm_info")
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--page-size", type=int, default=None,
                   help="page_size of vsphere_unmanaged_facts (default: not set, vCenter chooses)")
    p.add_argument("--json", default=os.path.join(ROOT, "tests", "benchmarks", "results", "vsphere_facts.json"))
    args = p.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    modules = args.modules.split(",")
    workdir = tempfile.mkdtemp(prefix="bench-vsphere-")
    ctx = Context(os.path.join(workdir, "sandbox"), ROOT)
    results = {}
    try:
        for size in sizes:
            if size % HOSTS:
                raise SystemExit("--sizes: %d is not a multiple of %d hosts" % (size, HOSTS))
            peer = VcsimPeer(ctx, name="vcsim-%d" % size, datacenters=1, clusters=2, hosts=4, standalone=2,
                             vms_per_host=size // HOSTS, templates=2)
            t0 = time.monotonic()
            peer.prepare()
            peer.start()
            try:
                peer.after_start()
                print("vcsim with %d VMs up in %.1fs on port %s" % (size, time.monotonic() - t0, peer.port),
                      flush=True)
                for dummy in range(args.repeat):
                    for module in modules:
                        r = run_playbook(workdir, peer, module, args.page_size)
                        print("  %-8s %8.2fs %7d requests %6s VMs" % (module, r["wall"], r["requests"], r["vms"]),
                              flush=True)
                        best = results.setdefault(size, {}).get(module)
                        if best is None or r["wall"] < best["wall"]:
                            results[size][module] = r
            finally:
                peer.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    print()
    print("%7s  %-44s %9s %10s %8s" % ("VMs", "module", "wall s", "requests", "returned"))
    for size in sizes:
        for module in modules:
            r = results[size][module]
            print("%7d  %-44s %9.2f %10d %8s" % (size, MODULES[module][0], r["wall"], r["requests"], r["vms"]))
    if "ours" in modules and "vm_info" in modules:
        print()
        print("%7s  %28s %28s" % ("VMs", "wall: vm_info / ours", "requests: vm_info / ours"))
        for size in sizes:
            o, v = results[size]["ours"], results[size]["vm_info"]
            print("%7d  %27.1fx %27.1fx" % (size, v["wall"] / o["wall"], v["requests"] / float(o["requests"])))
    verdict = []
    if "ours" in modules:
        reqs = sorted(set(results[s]["ours"]["requests"] for s in sizes))
        verdict.append("vsphere_unmanaged_facts requests per run: %s (%s)" % (
            ", ".join("%d at %d VMs" % (results[s]["ours"]["requests"], s) for s in sizes),
            "independent of the VM count" if len(reqs) == 1 else "NOT constant: one more per page of %s objects"
            % args.page_size))
    if "ours" in modules and "vm_info" in modules:
        top = max(sizes)
        ratio = results[top]["vm_info"]["wall"] / results[top]["ours"]["wall"]
        verdict.append("at %d VMs vsphere_unmanaged_facts is %.1fx faster than vmware_vm_info (target 10x): %s"
                       % (top, ratio, "PASS" if ratio >= 10 else "FAIL"))
    print()
    for line in verdict:
        print(line)
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump({"sizes": sizes, "page_size": args.page_size, "repeat": args.repeat,
                       "results": dict((str(k), v) for k, v in results.items()), "verdict": verdict}, f, indent=2)
        print("results written to %s" % args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
