#!/usr/bin/python3
"""Sandbox stand-in for IBM PowerVC's ``powervc-image`` command line tool.

Installed by the ``powervc`` sandbox peer as ``powervc-image`` on the PATH of the sandbox SSH
user. Standard library only (it runs with the remote host's /usr/bin/python3).

Commands (like the real tool, after ``source powervcrc``)::

    powervc-image list
    powervc-image export -i NAME|ID -p /path/to/image.ova

``list`` prints the image table of the PowerVC documentation (Name, ID, Status, Volumes, Size in
GB, Description, Architecture, OS Distro, Exportable). ``export`` writes a real OVA: a tar
archive whose first member is the OVF descriptor, then one raw disk file per volume, then a
``.mf`` manifest with SHA256 lines; written at a configurable pace with progress lines.

Credentials come from the environment like every OpenStack client: OS_AUTH_URL, OS_USERNAME,
OS_PASSWORD, OS_PROJECT_NAME (or OS_TENANT_NAME) are checked against the sandbox configuration;
a wrong user, password or project gets keystone's
``The request you have made requires authentication. (HTTP 401)``.

Configuration: a JSON file, ``$POWERVC_SANDBOX_CONFIG`` or ``<script dir>/../powervc-sandbox.json``::

    {
      "credentials": {"auth_url": "https://127.0.0.1:5000/v3/", "username": "...",
                      "password": "...", "project": "ibm-default"},
      "pace_mib_s": 200,            # export speed; 0 = as fast as the disk goes
      "export_startup_seconds": 0.2,  # time spent "preparing the volumes" before writing
      "disk_data": "random",        # random (deterministic per image, incompressible) | sparse
      "manifest": true,             # add <name>.mf with SHA256 lines (last member)
      "log_file": "powervc-image.log",  # JSON lines of the invocations (never secrets); null: off
      "images": [{"name": "...", "id": "...", "status": "active", "volumes": 1,
                  "size_gb": 1,       # the Size column (GB) and the OVF disk capacity
                  "size_bytes": 16777216,  # exact bytes of the exported disks (default size_gb GiB)
                  "description": "", "architecture": "ppc64", "os_distro": "rhel",
                  "exportable": true}],
      "faults": {
        "unavailable": false,              # every command: connection refused to OS_AUTH_URL
        "export_fail_after_bytes": null,   # export prints an error and exits 1 after N bytes
        "export_fail_message": "...",
        "export_exit_after_bytes": null,   # export dies abruptly (exit 137) after N bytes
        "export_times": null               # the export faults fire this many times, then clear
      }
    }

Fault switches: edit the JSON (tests do). A fault with ``export_times`` set decrements it and
rewrites the file each time it fires.
"""

import argparse
import getpass
import hashlib
import json
import os
import random
import sys
import tarfile
import time
import uuid
from xml.sax.saxutils import escape, quoteattr

GIB = 1024 ** 3
MIB = 1024 ** 2
CHUNK = MIB
ZEROS = memoryview(bytes(CHUNK))
CONFIG_ENV = "POWERVC_SANDBOX_CONFIG"
COLUMNS = ("Name", "ID", "Status", "Volumes", "Size", "Description", "Architecture", "OS Distro", "Exportable")
# the tar members' modification time: fixed, so that two exports of an image are identical
EPOCH = 1700000000


class CliError(Exception):
    def __init__(self, message, rc=1):
        super(CliError, self).__init__(message)
        self.message = message
        self.rc = rc


# configuration -----------------------------------------------------------------------------

def config_path():
    env = os.environ.get(CONFIG_ENV)
    if env:
        return env
    here = os.path.dirname(os.path.realpath(__file__))
    return os.path.join(os.path.dirname(here), "powervc-sandbox.json")


def load_config(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise CliError("ERROR: cannot read the PowerVC sandbox configuration %s: %s" % (path, e))


def save_config(path, cfg):
    tmp = "%s.%d.tmp" % (path, os.getpid())
    with open(tmp, "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
    os.replace(tmp, path)


def log_call(cfg, path, record):
    name = cfg.get("log_file", "powervc-image.log")
    if not name:
        return
    target = name if os.path.isabs(name) else os.path.join(os.path.dirname(os.path.abspath(path)), name)
    record = dict(record, time=time.time(), pid=os.getpid(), user=os.environ.get("OS_USERNAME"))
    try:
        with open(target, "a") as f:
            f.write(json.dumps(record, sort_keys=True) + "\n")
    except OSError:
        pass


# authentication ------------------------------------------------------------------------------

def _req_id():
    return "req-%s" % uuid.uuid4()


def authenticate(cfg):
    creds = cfg.get("credentials", {})
    env = os.environ
    auth_url = env.get("OS_AUTH_URL", "")
    if not auth_url:
        raise CliError("Missing value auth-url required for auth plugin password")
    expected_url = creds.get("auth_url", "")
    if cfg.get("faults", {}).get("unavailable") or auth_url.rstrip("/") != expected_url.rstrip("/"):
        host = auth_url.split("//", 1)[-1].split("/", 1)[0]
        raise CliError("Unable to establish connection to %s/auth/tokens: HTTPSConnectionPool(host='%s'): "
                       "Max retries exceeded with url: /v3/auth/tokens (Caused by NewConnectionError("
                       "'Failed to establish a new connection: [Errno 111] Connection refused'))"
                       % (auth_url.rstrip("/"), host))
    username = env.get("OS_USERNAME", "")
    if not username:
        raise CliError("Missing value username required for auth plugin password")
    password = env.get("OS_PASSWORD")
    if not password:
        if sys.stdin is not None and sys.stdin.isatty():
            password = getpass.getpass("Password: ")
        else:
            raise CliError("Missing value password required for auth plugin password")
    project = env.get("OS_PROJECT_NAME") or env.get("OS_TENANT_NAME") or ""
    if (username != creds.get("username") or password != creds.get("password")
            or (creds.get("project") and project != creds.get("project"))):
        raise CliError("The request you have made requires authentication. (HTTP 401) (Request-ID: %s)" % _req_id())


# list ------------------------------------------------------------------------------------------

def _fmt_size(value):
    if value is None:
        return ""
    value = float(value)
    return str(int(value)) if value == int(value) else ("%.2f" % value).rstrip("0")


def image_row(img):
    return [
        str(img.get("name", "")),
        str(img.get("id", "")),
        str(img.get("status", "active")),
        str(img.get("volumes", 1)),
        _fmt_size(img.get("size_gb")),
        str(img.get("description") or ""),
        str(img.get("architecture") or ""),
        str(img.get("os_distro") or ""),
        "True" if img.get("exportable", True) else "False",
    ]


def render_table(headers, rows):
    """A table drawn like prettytable (the OpenStack clients' tables); multi-line cells wrap."""
    split = [[cell.split("\n") for cell in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in split:
        for i, lines in enumerate(row):
            widths[i] = max([widths[i]] + [len(x) for x in lines])
    border = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def line(cells):
        return "|" + "|".join(" %s " % c.ljust(w) for c, w in zip(cells, widths)) + "|"

    out = [border, line(headers), border]
    for row in split:
        height = max(len(lines) for lines in row)
        for k in range(height):
            out.append(line([lines[k] if k < len(lines) else "" for lines in row]))
    if rows:
        out.append(border)
    return "\n".join(out)


def cmd_list(cfg, args, path):
    authenticate(cfg)
    images = cfg.get("images", [])
    print(render_table(COLUMNS, [image_row(i) for i in images]))
    log_call(cfg, path, {"command": "list", "rc": 0})
    return 0


# export ------------------------------------------------------------------------------------------

def find_image(cfg, ref):
    images = cfg.get("images", [])
    for img in images:
        if str(img.get("id", "")).lower() == ref.lower():
            return img
    named = [img for img in images if img.get("name") == ref]
    if len(named) > 1:
        raise CliError("ERROR: More than one image exists with the name '%s'; use the image ID." % ref)
    if not named:
        raise CliError("ERROR: Image '%s' not found." % ref)
    return named[0]


def safe_name(name):
    out = "".join(c if (c.isalnum() or c in "-_.") else "_" for c in name)
    return out.strip(".") or "image"


def volume_sizes(img):
    count = max(1, int(img.get("volumes", 1) or 1))
    total = img.get("size_bytes")
    if total is None:
        total = int(float(img.get("size_gb") or 1) * GIB)
    total = int(total)
    each = total // count
    return [total - each * (count - 1)] + [each] * (count - 1)


def ovf_descriptor(img, files):
    """A plausible OVF 1.1 descriptor: references, disk section (capacity in GB like PowerVC's
    volumes), and the virtual system with its operating system and product facts."""
    name = img.get("name", "")
    cap = max(1, int(round(float(img.get("size_gb") or 1))))
    refs, disks, items = [], [], []
    for n, (fname, size) in enumerate(files, 1):
        refs.append('    <ovf:File ovf:href=%s ovf:id="file%d" ovf:size="%d"/>' % (quoteattr(fname), n, size))
        disks.append('    <ovf:Disk ovf:capacity="%d" ovf:capacityAllocationUnits="byte * 2^30" ovf:diskId="disk%d" '
                     'ovf:fileRef="file%d" ovf:format="http://www.ibm.com/xmlns/ovf/diskformat/power.raw" '
                     'ovf:populatedSize="%d"/>' % (cap if n == 1 else max(1, cap // len(files)), n, n, size))
        items.append("      <ovf:Item>\n"
                     "        <rasd:ElementName>volume%d</rasd:ElementName>\n"
                     "        <rasd:HostResource>ovf:/disk/disk%d</rasd:HostResource>\n"
                     "        <rasd:InstanceID>%d</rasd:InstanceID>\n"
                     "        <rasd:ResourceType>17</rasd:ResourceType>\n"
                     "        <rasd:AutomaticAllocation>%s</rasd:AutomaticAllocation>\n"
                     "      </ovf:Item>" % (n, n, n + 10, "true" if n == 1 else "false"))
    return "\n".join([
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<ovf:Envelope xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" '
        'xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" '
        'xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData">',
        "  <ovf:References>",
    ] + refs + [
        "  </ovf:References>",
        "  <ovf:DiskSection>",
        "    <ovf:Info>Image volumes</ovf:Info>",
    ] + disks + [
        "  </ovf:DiskSection>",
        "  <ovf:VirtualSystem ovf:id=%s>" % quoteattr(str(img.get("id", ""))),
        "    <ovf:Info>PowerVC image %s</ovf:Info>" % escape(name),
        "    <ovf:Name>%s</ovf:Name>" % escape(name),
        "    <ovf:ProductSection>",
        "      <ovf:Info>Image properties</ovf:Info>",
        "      <ovf:Product>%s</ovf:Product>" % escape(name),
        "      <ovf:FullVersion>%s</ovf:FullVersion>" % escape(str(img.get("description") or "")),
        '      <ovf:Property ovf:key="architecture" ovf:type="string" ovf:value=%s/>'
        % quoteattr(str(img.get("architecture") or "")),
        '      <ovf:Property ovf:key="os_distro" ovf:type="string" ovf:value=%s/>'
        % quoteattr(str(img.get("os_distro") or "")),
        "    </ovf:ProductSection>",
        '    <ovf:OperatingSystemSection ovf:id="%d">' % (9 if str(img.get("os_distro")).startswith("aix") else 80),
        "      <ovf:Info>Guest operating system</ovf:Info>",
        "      <ovf:Description>%s</ovf:Description>" % escape(str(img.get("os_distro") or "")),
        "    </ovf:OperatingSystemSection>",
        "    <ovf:VirtualHardwareSection>",
        "      <ovf:Info>Virtual hardware requirements</ovf:Info>",
        "      <ovf:System><vssd:VirtualSystemType>IBM:POWER:%s</vssd:VirtualSystemType></ovf:System>"
        % escape(str(img.get("architecture") or "ppc64")),
    ] + items + [
        "    </ovf:VirtualHardwareSection>",
        "  </ovf:VirtualSystem>",
        "</ovf:Envelope>",
        "",
    ]).encode("utf-8")


class DiskData(object):
    """Incompressible, deterministic disk content (the same for every export of an image).

    A pseudo-random pool made once per export; consecutive blocks are windows of it at offsets
    that move by a prime, so blocks differ from each other. Much faster than drawing every byte
    from a PRNG (Python's randbytes makes ~100 MiB/s on a small machine)."""

    POOL = 16 * MIB
    STEP = 1048573  # prime, a little under 1 MiB

    def __init__(self, seed):
        rng = random.Random(seed)
        pool = rng.getrandbits(self.POOL * 8).to_bytes(self.POOL, "little")
        self.pool = memoryview(pool + pool[:CHUNK])
        self.offset = 0

    def block(self, n):
        start = self.offset
        self.offset = (self.offset + self.STEP) % self.POOL
        return self.pool[start:start + n]


def tar_header(name, size):
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o644
    info.mtime = EPOCH
    info.uname = info.gname = "root"
    return info.tobuf(format=tarfile.PAX_FORMAT, encoding="utf-8", errors="surrogateescape")


class OvaWriter(object):
    """Writes the OVA stream, paced, with progress lines and the fault switches."""

    def __init__(self, f, cfg, faults, on_fault):
        self.f = f
        self.written = 0
        pace = float(cfg.get("pace_mib_s") or 0)
        self.rate = pace * MIB if pace > 0 else 0.0
        self.sparse = cfg.get("disk_data", "random") == "sparse"
        self.t0 = time.monotonic()
        self.fail_at = faults.get("export_fail_after_bytes")
        self.exit_at = faults.get("export_exit_after_bytes")
        self.fail_message = faults.get("export_fail_message") or (
            "Unable to read volume data from the storage provider: connection reset by peer")
        self.on_fault = on_fault
        self.last_report = 0.0
        self.last_pct = -1

    def _check_faults(self, upcoming):
        end = self.written + upcoming
        for at, kind in ((self.exit_at, "exit"), (self.fail_at, "fail")):
            if at is not None and end >= int(at):
                # write up to the fault point, then fail
                keep = max(0, int(at) - self.written)
                return kind, keep
        return None, upcoming

    def write(self, data=None, length=None, hole=False):
        length = len(data) if data is not None else length
        kind, keep = self._check_faults(length)
        if hole:
            self.f.seek(keep, os.SEEK_CUR)
        elif keep:
            self.f.write(data[:keep])
        self.written += keep
        if kind:
            self.f.flush()
            if hole:
                self.f.truncate(self.f.tell())
            self.on_fault()
            if kind == "exit":
                os._exit(137)
            raise CliError("ERROR: Export of the image failed: %s" % self.fail_message)
        self._pace()

    def _pace(self):
        if self.rate:
            ahead = self.written / self.rate - (time.monotonic() - self.t0)
            if ahead > 0:
                time.sleep(ahead)

    def progress(self, label, done, size):
        now = time.monotonic()
        pct = int(done * 100 / size) if size else 100
        if pct == self.last_pct or (pct < 100 and now - self.last_report < 1.0 and pct - self.last_pct < 10):
            return
        self.last_report, self.last_pct = now, pct
        elapsed = max(now - self.t0, 1e-6)
        print("  %s: %3d%% %.1f MiB of %.1f MiB (%.1f MiB/s)"
              % (label, pct, done / float(MIB), size / float(MIB), self.written / float(MIB) / elapsed), flush=True)


def _check_destination(path, needed):
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        raise CliError("ERROR: The directory %s does not exist." % directory)
    if os.path.isdir(path):
        raise CliError("ERROR: %s is a directory; give the path of the OVA file to create." % path)
    if os.path.lexists(path):
        raise CliError("ERROR: The file %s already exists." % path)
    if not os.access(directory, os.W_OK | os.X_OK):
        raise CliError("ERROR: [Errno 13] Permission denied: '%s'" % path)
    st = os.statvfs(directory)
    free = st.f_bavail * st.f_frsize
    return free < needed, free


def cmd_export(cfg, args, path):
    authenticate(cfg)
    img = find_image(cfg, args.image)
    label = "'%s' (%s)" % (img.get("name"), img.get("id"))
    if not img.get("exportable", True):
        raise CliError("ERROR: Image %s is not exportable." % label)
    if img.get("status", "active") != "active":
        raise CliError("ERROR: Image %s cannot be exported in status '%s'; the image must be active."
                       % (label, img.get("status")))
    out = os.path.abspath(args.path)
    base = safe_name(img.get("name", "image"))
    sizes = volume_sizes(img)
    files = [("volume%d" % (n + 1), size) for n, size in enumerate(sizes)]
    ovf = ovf_descriptor(img, files)
    total = (512 + len(ovf) + 511) // 512 * 512 + sum(1024 + (s + 511) // 512 * 512 for s in sizes) + 4096
    short, free = _check_destination(out, total)

    faults = dict(cfg.get("faults") or {})
    if faults.get("export_times") is not None and int(faults["export_times"]) <= 0:
        faults = {}

    def fired():
        live = cfg.setdefault("faults", {})
        if live.get("export_times") is not None:
            live["export_times"] = int(live["export_times"]) - 1
            save_config(path, cfg)
        log_call(cfg, path, {"command": "export", "image": img.get("id"), "path": out, "rc": "fault"})

    print("Exporting image %s to %s" % (label, out), flush=True)
    startup = float(cfg.get("export_startup_seconds", 0.2) or 0)
    if startup > 0:
        print("Preparing %d volume(s) for export..." % len(sizes), flush=True)
        time.sleep(startup)
    try:
        f = open(out, "xb")
    except OSError as e:
        raise CliError("ERROR: [Errno %s] %s: '%s'" % (e.errno, e.strerror, out))
    with f:
        writer = OvaWriter(f, cfg, faults, fired)
        writer.write(tar_header("%s.ovf" % base, len(ovf)))
        writer.write(ovf + b"\0" * (-len(ovf) % 512))
        if short:
            # what the real tool meets a few blocks into the volume data
            raise CliError("ERROR: [Errno 28] No space left on device: '%s' (%d bytes needed, %d available)"
                           % (out, total, free))
        digests = []
        data = DiskData(str(img.get("id"))) if not writer.sparse else None
        for fname, size in files:
            writer.write(tar_header(fname, size))
            sha = hashlib.sha256()
            done = 0
            print("Exporting volume %s (%.1f MiB)" % (fname, size / float(MIB)), flush=True)
            while done < size:
                n = min(CHUNK, size - done)
                if writer.sparse:
                    sha.update(ZEROS[:n])
                    writer.write(length=n, hole=True)
                else:
                    block = data.block(n)
                    sha.update(block)
                    writer.write(block)
                done += n
                writer.progress(fname, done, size)
            pad = -size % 512
            if writer.sparse:
                writer.write(length=pad, hole=True)
            else:
                writer.write(b"\0" * pad)
            digests.append((fname, sha.hexdigest()))
        if cfg.get("manifest", True):
            mf = "".join("SHA256(%s)= %s\n" % (n, d) for n, d in digests).encode("ascii")
            writer.write(tar_header("%s.mf" % base, len(mf)))
            writer.write(mf + b"\0" * (-len(mf) % 512))
        end = 1024 + (-(writer.written + 1024) % tarfile.RECORDSIZE)
        writer.write(b"\0" * end)
        f.truncate(writer.written)
    log_call(cfg, path, {"command": "export", "image": img.get("id"), "path": out, "rc": 0, "bytes": writer.written})
    print("Image %s was exported successfully to %s (%d bytes)." % (label, out, writer.written), flush=True)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="powervc-image", description="Import, export and list PowerVC images.")
    sub = parser.add_subparsers(dest="command", metavar="{list,export}")
    sub.required = True
    sub.add_parser("list", help="List the images.")
    exp = sub.add_parser("export", help="Export an image to an OVA package.")
    exp.add_argument("-i", "--image", required=True, help="Name or ID of the image to export.")
    exp.add_argument("-p", "--path", required=True, help="Path of the OVA file to create.")
    args = parser.parse_args(argv)
    path = config_path()
    try:
        cfg = load_config(path)
        if args.command == "list":
            return cmd_list(cfg, args, path)
        return cmd_export(cfg, args, path)
    except CliError as e:
        print(e.message, file=sys.stderr, flush=True)
        return e.rc
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
