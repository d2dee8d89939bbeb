# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmimport.migrate contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

"""Client layer for IBM PowerVC's ``powervc-image`` command line tool, run on the PowerVC host.

The tool is an OpenStack client: it reads ``OS_*`` variables that operators get with
``source /opt/ibm/powervc/powervcrc``. Here the rc file is parsed (never given to a shell),
the credentials of the module options are added to the environment of the child process only
(never on its command line, never on disk), and the tool's table output and error texts are
turned into data and into one clear message each.

Everything but ``client_from_module`` is plain Python (standard library only, Python 3.8+:
these modules run on the PowerVC host), testable without Ansible.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import math
import os
import platform
import re
import tarfile

from ansible.module_utils.basic import env_fallback

DEFAULT_RC_FILE = "/opt/ibm/powervc/powervcrc"
DEFAULT_CLI = "powervc-image"
#: where PowerVC installs its tools, searched after PATH
CLI_DIRS = ("/usr/bin", "/usr/local/bin", "/opt/ibm/powervc/bin")

KIB = 1024
MIB = 1024 ** 2
GIB = 1024 ** 3
HASH_BLOCK = 4 * MIB

#: default free space margin of an export: 5 % of the image plus 1 GiB (see the module's docs)
DEFAULT_MARGIN_PERCENT = 5.0
DEFAULT_MARGIN_MIB = 1024

#: columns of ``powervc-image list`` -> keys of the returned dicts
COLUMN_KEYS = {
    "name": "name",
    "id": "id",
    "status": "status",
    "volumes": "volumes",
    "size": "size",
    "description": "description",
    "architecture": "architecture",
    "os distro": "os_distro",
    "exportable": "exportable",
}
IMAGE_KEYS = ("name", "id", "status", "volumes", "size", "description", "architecture", "os_distro", "exportable")

_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_EXPORT_RE = re.compile(r"export\s+")
_ASSIGN_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=")
_HEX64_RE = re.compile(r"^[0-9a-fA-F]{64}$")


def powervc_argument_spec():
    """Options shared by the PowerVC modules (documented in doc_fragments/powervc.py)."""
    return dict(
        rc_file=dict(type="path", default=DEFAULT_RC_FILE),
        username=dict(type="str", fallback=(env_fallback, ["OS_USERNAME"])),
        password=dict(type="str", no_log=True, fallback=(env_fallback, ["OS_PASSWORD"])),
        project=dict(type="str"),
        cli_path=dict(type="str", default=DEFAULT_CLI),
    )


# errors -------------------------------------------------------------------------------------

class PowerVCError(Exception):
    """An expected failure; ``str(e)`` is the whole message for the user."""

    def __init__(self, msg, **extra):
        super(PowerVCError, self).__init__(msg)
        self.msg = msg
        self.extra = extra


class PowerVCConfigError(PowerVCError):
    """The rc file, the CLI or the credentials are missing or unusable on this host."""


class PowerVCAuthError(PowerVCError):
    """PowerVC refused the credentials."""


class PowerVCConnectionError(PowerVCError):
    """PowerVC's API could not be reached."""


class PowerVCNotFound(PowerVCError):
    """No image matches."""


class PowerVCNotExportable(PowerVCError):
    """The image exists but cannot be exported."""


class PowerVCSpaceError(PowerVCError):
    """Not enough free space for the export."""


# rc file ------------------------------------------------------------------------------------

def _read_word(text, pos, lookup):
    """Read one shell word of an assignment value from text[pos:].

    Quotes and backslashes follow sh; ``$NAME``, ``${NAME}`` and ``${NAME:-word}`` are expanded
    with lookup(). Returns (value, next position). Command substitution (``$(..)``, backquotes)
    and other expansions raise ValueError: nothing is ever run.
    """
    out = []
    n = len(text)
    while pos < n:
        c = text[pos]
        if c in " \t;&|":
            break
        if c == "'":
            end = text.find("'", pos + 1)
            if end < 0:
                raise ValueError("unterminated single quote")
            out.append(text[pos + 1:end])
            pos = end + 1
        elif c == '"':
            pos += 1
            while True:
                if pos >= n:
                    raise ValueError("unterminated double quote")
                c = text[pos]
                if c == '"':
                    pos += 1
                    break
                if c == "\\" and pos + 1 < n and text[pos + 1] in '$`"\\':
                    out.append(text[pos + 1])
                    pos += 2
                elif c == "$":
                    value, pos = _expand(text, pos, lookup)
                    out.append(value)
                elif c == "`":
                    raise ValueError("command substitution is not supported")
                else:
                    out.append(c)
                    pos += 1
        elif c == "\\":
            if pos + 1 < n:
                out.append(text[pos + 1])
            pos += 2
        elif c == "$":
            value, pos = _expand(text, pos, lookup)
            out.append(value)
        elif c == "`":
            raise ValueError("command substitution is not supported")
        else:
            out.append(c)
            pos += 1
    return "".join(out), pos


def _expand(text, pos, lookup):
    """Expand the parameter at text[pos] == '$'."""
    nxt = text[pos + 1:pos + 2]
    if nxt == "(":
        raise ValueError("command substitution is not supported")
    if nxt == "{":
        end = text.find("}", pos + 2)
        if end < 0:
            raise ValueError("unterminated ${")
        inner = text[pos + 2:end]
        default = None
        for sep in (":-", "-"):
            if sep in inner:
                inner, default = inner.split(sep, 1)
                break
        if not _NAME_RE.match(inner):
            raise ValueError("unsupported expansion ${%s}" % text[pos + 2:end])
        value = lookup(inner)
        if not value and default is not None:
            value = default
        return value or "", end + 1
    m = re.match(r"[A-Za-z_][A-Za-z0-9_]*", text[pos + 1:])
    if not m:
        return "$", pos + 1
    return lookup(m.group(0)) or "", pos + 1 + m.end()


def _lookup_in(*scopes):
    """A variable lookup over scopes, first match wins, '' when unset."""
    def lookup(name):
        for scope in scopes:
            if name in scope:
                return scope[name]
        return ""
    return lookup


def parse_rc(text, environ=None):
    """Variables set by an rc file of ``export NAME=value`` (or ``NAME=value``) lines.

    Values may be quoted and may refer to variables set earlier in the file (or in environ),
    as in ``export OS_TENANT_NAME=$OS_PROJECT_NAME``. Other lines (comments, ``echo``, ``read``,
    ``if``...) are skipped. Returns (variables, skipped) where skipped lists the numbers of the
    lines that look like assignments but could not be read without a shell (their text is not
    returned: it may hold a secret).
    """
    base = dict(environ or {})
    found = {}
    skipped = []

    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        pos = 0
        while pos < len(line) and not line.startswith("#", pos):
            # one statement: [export] NAME=value [NAME=value ...]
            m = _EXPORT_RE.match(line, pos)
            is_export = bool(m)
            if m:
                pos = m.end()
            stmt = {}
            lookup = _lookup_in(stmt, found, base)
            try:
                while True:
                    m = _ASSIGN_RE.match(line, pos)
                    if not m:
                        break
                    value, pos = _read_word(line, m.end(), lookup)
                    stmt[m.group(1)] = value
                    while pos < len(line) and line[pos] in " \t":
                        pos += 1
            except ValueError:
                skipped.append(lineno)
                break
            rest = line[pos:]
            if not rest or rest.startswith("#") or rest[0] in ";&|":
                found.update(stmt)
                pos += len(rest) - len(rest.lstrip(";&| \t"))
                continue
            # a command follows: 'NAME=x cmd' sets NAME for cmd only; 'export A=1 B' exports A
            if is_export:
                found.update(stmt)
            break
    return found, skipped


def cli_environment(rc_vars, username=None, password=None, project=None):
    """The OS_* environment of one CLI run: the rc file's variables, then the module options.

    Empty values are dropped (an rc file that reads the password interactively leaves
    ``OS_PASSWORD=`` behind)."""
    env = dict((k, v) for k, v in rc_vars.items() if v != "")
    if username:
        env["OS_USERNAME"] = username
    if password:
        env["OS_PASSWORD"] = password
    if project:
        env["OS_PROJECT_NAME"] = project
        env["OS_TENANT_NAME"] = project
    return env


def read_rc_file(path):
    if not os.path.exists(path):
        raise PowerVCConfigError(
            "PowerVC rc file %s not found on %s: copy the PowerVC connection file there "
            "(PowerVC writes it as /opt/ibm/powervc/powervcrc) or set the option rc_file to its path"
            % (path, platform.node()))
    try:
        with open(path, "rb") as f:
            data = f.read()
    except (IOError, OSError) as e:
        raise PowerVCConfigError("cannot read the PowerVC rc file %s: %s; make it readable by the user "
                                 "that runs the module or set the option rc_file" % (path, e.strerror or e))
    return data.decode("utf-8", "replace")


# the CLI --------------------------------------------------------------------------------------

def find_cli(cli, path_env=None, extra_dirs=CLI_DIRS):
    """Full path of the CLI: cli itself when it has a '/', else the first match on PATH then in
    extra_dirs; None when not found."""
    if "/" in cli:
        return cli if os.path.isfile(cli) and os.access(cli, os.X_OK) else None
    dirs = [d for d in (path_env if path_env is not None else os.environ.get("PATH", "")).split(os.pathsep) if d]
    for d in dirs + [d for d in extra_dirs if d not in dirs]:
        candidate = os.path.join(d, cli)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def _scrub(text, secrets):
    for s in secrets:
        if s:
            text = text.replace(s, "********")
    return text


def _relevant(out, err):
    """The lines of the tool's output worth quoting in an error (stderr first)."""
    text = (err or "").strip() or (out or "").strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return " ".join(lines[-3:])


def translate_error(action, rc, out, err, env, image=None, secrets=()):
    """One PowerVCError for a failed CLI run, naming what failed and the fix."""
    said = _scrub(_relevant(out, err), secrets)
    low = said.lower()
    auth_url = env.get("OS_AUTH_URL", "(no OS_AUTH_URL)")
    user = env.get("OS_USERNAME", "(no OS_USERNAME)")
    project = env.get("OS_PROJECT_NAME") or env.get("OS_TENANT_NAME") or "(no OS_PROJECT_NAME)"
    extra = dict(rc=rc, stderr=_scrub(err or "", secrets), stdout=_scrub(out or "", secrets))
    if rc == 127 or "command not found" in low:
        return PowerVCConfigError("powervc-image could not be run on %s (rc=%s): %s; install PowerVC's CLI or "
                                  "set the option cli_path" % (platform.node(), rc, said), **extra)
    if "http 401" in low or "requires authentication" in low:
        return PowerVCAuthError(
            "PowerVC at %s refused the credentials of user '%s' in project '%s': %s. Check the options "
            "password and username (or OS_USERNAME in the rc file) and project"
            % (auth_url, user, project, said), **extra)
    if "http 403" in low or "forbidden" in low:
        return PowerVCAuthError("PowerVC user '%s' may not %s: %s. Give the user a role in project '%s'"
                                % (user, action, said, project), **extra)
    m = re.search(r"missing value ([\w-]+) required for auth plugin", low)
    if m:
        return PowerVCConfigError(
            "powervc-image has no %s: %s. Set it in the rc file (OS_%s) or with the module options"
            % (m.group(1), said, m.group(1).upper().replace("-", "_")), **extra)
    if "unable to establish connection" in low or "connection refused" in low or "timed out" in low:
        return PowerVCConnectionError("cannot reach PowerVC's API at %s (OS_AUTH_URL of the rc file): %s"
                                      % (auth_url, said), **extra)
    if image is not None and ("more than one" in low or "multiple" in low):
        return PowerVCNotFound("several PowerVC images are named '%s': give the image ID instead (%s)"
                               % (image, said), **extra)
    if image is not None and "not found" in low:
        return PowerVCNotFound("PowerVC image '%s' not found: %s" % (image, said), **extra)
    if image is not None and "not exportable" in low:
        return PowerVCNotExportable("PowerVC image '%s' is not exportable: %s" % (image, said), **extra)
    if "no space left" in low or "errno 28" in low:
        return PowerVCSpaceError("no space left while exporting PowerVC image '%s': %s; free space or choose "
                                 "another destination" % (image, said), **extra)
    return PowerVCError("powervc-image %s failed (rc=%s): %s" % (action, rc, said or "no output"), **extra)


class PowerVCImageCLI(object):
    """Runs ``powervc-image`` with the environment of the rc file and the credentials.

    run_command is AnsibleModule.run_command (or a stand-in with its signature)."""

    def __init__(self, run_command, cli, environ):
        self.run_command = run_command
        self.cli = cli
        self.environ = environ

    @property
    def secrets(self):
        return [self.environ.get("OS_PASSWORD")]

    def _run(self, args):
        # the credentials only ever go to the child's environment; expand_user_and_vars=False:
        # an image name with '$' or '~' is passed as it is
        return self.run_command([self.cli] + list(args), environ_update=self.environ,
                                expand_user_and_vars=False)

    def list_images(self):
        rc, out, err = self._run(["list"])
        if rc != 0:
            raise translate_error("list images", rc, out, err, self.environ, secrets=self.secrets)
        return parse_image_table(out)

    def export(self, image, path):
        rc, out, err = self._run(["export", "-i", image, "-p", path])
        if rc != 0:
            raise translate_error("export image '%s'" % image, rc, out, err, self.environ, image=image,
                                  secrets=self.secrets)
        return _scrub(out or "", self.secrets)


def client_from_module(module):
    """The CLI client for the module's options; raises PowerVCError with the fix."""
    p = module.params
    rc_vars, skipped = parse_rc(read_rc_file(p["rc_file"]), environ=os.environ)
    if skipped:
        module.warn("rc file %s: line(s) %s need a shell to be read and were skipped"
                    % (p["rc_file"], ", ".join(str(n) for n in skipped)))
    env = cli_environment(rc_vars, p.get("username"), p.get("password"), p.get("project"))
    if not env.get("OS_USERNAME"):
        raise PowerVCConfigError("no PowerVC user name: set the option username (or OS_USERNAME in the rc file %s)"
                                 % p["rc_file"])
    if not env.get("OS_PASSWORD"):
        raise PowerVCConfigError(
            "no password for PowerVC user '%s': set the option password (keep it in Ansible Vault); "
            "powervc-image would otherwise prompt for it" % env["OS_USERNAME"])
    cli = find_cli(p["cli_path"])
    if cli is None:
        raise PowerVCConfigError(
            "%s not found on %s (searched PATH=%s and %s): run this on the PowerVC host, install "
            "PowerVC's CLI, or set the option cli_path to its full path"
            % (p["cli_path"], platform.node(), os.environ.get("PATH", ""), ", ".join(CLI_DIRS)))
    return PowerVCImageCLI(module.run_command, cli, env)


# the image table ------------------------------------------------------------------------------

def _key(header):
    h = " ".join(header.strip().lower().split())
    return COLUMN_KEYS.get(h, re.sub(r"[^a-z0-9]+", "_", h).strip("_"))


def _split_row(line, bars, ncols):
    """Cells of one table line: by the border's column positions, else by '|'."""
    if len(line) == bars[-1] + 1 and all(line[p] == "|" for p in bars):
        return [line[a + 1:b].strip() for a, b in zip(bars, bars[1:])]
    parts = line.strip()[1:-1].split("|") if line.strip().endswith("|") else None
    if parts is not None and len(parts) == ncols:
        return [p.strip() for p in parts]
    return None


def _bool(value):
    v = (value or "").strip().lower()
    if v in ("true", "yes", "y", "1"):
        return True
    if v in ("false", "no", "n", "0"):
        return False
    return None


def _number(value):
    v = (value or "").strip()
    if not v:
        return None
    try:
        f = float(v)
    except ValueError:
        return v
    return int(f) if f == int(f) and "." not in v else f


def _convert(row):
    img = dict(row)
    img["volumes"] = _number(img.get("volumes"))
    img["size"] = _number(img.get("size"))
    img["exportable"] = _bool(img.get("exportable"))
    for k in IMAGE_KEYS:
        img.setdefault(k, None)
    if img["description"] is None:
        img["description"] = ""
    return img


def parse_image_table(text):
    """Images (dicts with IMAGE_KEYS) of ``powervc-image list`` output.

    Robust to lines before and after the table (warnings), cells that wrap over several lines
    (a continuation line has an empty ID), '|' inside a cell, extra columns (kept under a
    lower-case key) and an empty catalog (no table, or a table with no row)."""
    lines = (text or "").splitlines()
    header_at = None
    for i, line in enumerate(lines):
        s = line.strip()
        if s.startswith("|") and s.endswith("|"):
            cells = [c.strip().lower() for c in s[1:-1].split("|")]
            if "name" in cells and "id" in cells:
                header_at = i
                break
    if header_at is None:
        if any(line.strip().startswith("|") for line in lines):
            raise PowerVCError("cannot read the output of powervc-image list: no header line with Name and ID",
                               stdout=text)
        return []
    header_line = lines[header_at].rstrip()
    border = None
    for j in (header_at - 1, header_at + 1):
        if 0 <= j < len(lines) and lines[j].strip().startswith("+"):
            border = lines[j].rstrip()
            break
    headers = [c.strip() for c in header_line.strip()[1:-1].split("|")]
    if border is not None and len(border) == len(header_line):
        bars = [k for k, c in enumerate(border) if c == "+"]
        by_pos = _split_row(header_line, bars, len(bars) - 1)
        if by_pos is not None:
            headers = by_pos
    else:
        bars = [k for k, c in enumerate(header_line) if c == "|"]
    keys = [_key(h) for h in headers]
    ncols = len(keys)
    rows = []
    for line in lines[header_at + 1:]:
        s = line.rstrip()
        stripped = s.strip()
        if not stripped:
            continue
        if stripped.startswith("+"):
            continue
        if not stripped.startswith("|"):
            if rows:
                break  # text after the table
            continue
        cells = _split_row(s, bars, ncols)
        if cells is None:
            raise PowerVCError("cannot read this line of powervc-image list: %r (expected %d columns: %s)"
                               % (stripped, ncols, ", ".join(headers)), stdout=text)
        row = dict(zip(keys, cells))
        if rows and not row.get("id") and "id" in keys:
            prev = rows[-1]
            for k, v in row.items():
                if v:
                    prev[k] = (prev[k] + "\n" + v) if prev.get(k) else v
            continue
        rows.append(row)
    return [_convert(r) for r in rows]


def filter_images(images, ref):
    """Images whose ID (any case) or name equals ref."""
    if not ref:
        return list(images)
    return [i for i in images if (i.get("id") or "").lower() == ref.lower() or i.get("name") == ref]


def find_image(images, ref):
    """The one image that ref names: an ID first, else a unique name."""
    for img in images:
        if (img.get("id") or "").lower() == ref.lower():
            return img
    named = [i for i in images if i.get("name") == ref]
    if len(named) > 1:
        raise PowerVCNotFound("several PowerVC images are named '%s' (IDs %s): give the image ID instead"
                              % (ref, ", ".join(i["id"] for i in named)))
    if not named:
        known = ", ".join(sorted(i.get("name") or "" for i in images)[:20]) or "none"
        raise PowerVCNotFound("PowerVC image '%s' not found (by name or ID); the images are: %s" % (ref, known))
    return named[0]


def check_exportable(img):
    label = "'%s' (%s)" % (img.get("name"), img.get("id"))
    if img.get("exportable") is False:
        raise PowerVCNotExportable(
            "PowerVC image %s is not exportable (Exportable is False in powervc-image list): "
            "choose an exportable image, or make this one exportable in PowerVC" % label)
    status = (img.get("status") or "").lower()
    if status and status != "active":
        raise PowerVCNotExportable("PowerVC image %s is in status '%s': only active images can be exported; "
                                   "wait until it is active" % (label, img.get("status")))


# free space -----------------------------------------------------------------------------------

def image_bytes(size_gb):
    """Bytes of an image whose Size column is size_gb (PowerVC's GB are GiB, like volumes)."""
    return int(math.ceil(float(size_gb) * GIB))


def required_bytes(size_gb, margin_percent=DEFAULT_MARGIN_PERCENT, margin_mib=DEFAULT_MARGIN_MIB):
    """Free bytes an export of an image of size_gb needs: its size, plus margin_percent of it,
    plus margin_mib MiB."""
    size = image_bytes(size_gb)
    return size + int(math.ceil(size * float(margin_percent) / 100.0)) + int(margin_mib) * MIB


def free_bytes(path):
    """Bytes available to this user on the filesystem of path (or of its nearest existing parent)."""
    path = os.path.abspath(path)
    while not os.path.exists(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def human_bytes(n):
    n = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return ("%d %s" % (n, unit)) if unit == "bytes" else ("%.1f %s" % (n, unit))
        n /= 1024.0
    return str(n)  # pragma: no cover


def check_free_space(img, directory, available, margin_percent=DEFAULT_MARGIN_PERCENT,
                     margin_mib=DEFAULT_MARGIN_MIB):
    """Raise PowerVCSpaceError unless available bytes cover the export of img.

    Returns the bytes needed (None when the image reports no size)."""
    if img.get("size") in (None, ""):
        return None
    need = required_bytes(img["size"], margin_percent, margin_mib)
    if available < need:
        raise PowerVCSpaceError(
            "not enough free space in %s to export PowerVC image '%s' (%s GB): %d bytes (%s) needed "
            "(the image plus %s%% plus %d MiB), %d bytes (%s) available; free space there or choose "
            "another session directory" % (directory, img.get("name"), img["size"], need, human_bytes(need),
                                           _fmt_num(margin_percent), margin_mib, available,
                                           human_bytes(available)),
            required_bytes=need, free_bytes=available)
    return need


def _fmt_num(x):
    x = float(x)
    return str(int(x)) if x == int(x) else str(x)


# files ------------------------------------------------------------------------------------------

def safe_filename(name):
    """A file name made of an image name (anything but letters, digits, '-', '_', '.' -> '_')."""
    out = re.sub(r"[^A-Za-z0-9._-]", "_", name or "").strip(".")
    return out or "image"


def partial_path(path):
    """Where an export goes before it is complete: a hidden name in the same directory (same
    filesystem, so the final rename is atomic), still ending in .ova."""
    d, base = os.path.split(path)
    stem = base[:-4] if base.lower().endswith(".ova") else base
    return os.path.join(d, ".%s.partial.ova" % stem)


def checksum_path(path):
    return path + ".sha256"


def sha256_file(path, block=HASH_BLOCK):
    h = hashlib.sha256()
    buf = bytearray(block)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as f:
        while True:
            n = f.readinto(buf)
            if not n:
                break
            h.update(view[:n])
    return h.hexdigest()


def read_checksum(path):
    """The SHA-256 of a sha256sum-format file (first line ``<hex>  <name>``), or None."""
    try:
        with open(path) as f:
            first = f.readline().split()
    except (IOError, OSError, UnicodeDecodeError):
        return None
    if first and _HEX64_RE.match(first[0]):
        return first[0].lower()
    return None


def write_checksum(path, digest, filename):
    """Write ``<digest>  <filename>`` (sha256sum -c format) atomically."""
    tmp = "%s.tmp%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write("%s  %s\n" % (digest, filename))
    os.rename(tmp, path)


def existing_export(path):
    """State of a previous export at path: 'complete' (the OVA matches its .sha256, digest and
    size returned), 'partial' (an OVA without a matching checksum) or 'absent'."""
    if not os.path.isfile(path):
        return "absent", None
    expected = read_checksum(checksum_path(path))
    if expected and sha256_file(path) == expected:
        return "complete", expected
    return "partial", None


def ova_first_member(path):
    """Name of the first member of the tar archive at path (an OVA starts with its .ovf), or None."""
    try:
        with tarfile.open(path, mode="r:") as tar:
            member = tar.next()
            return member.name if member is not None else None
    except (tarfile.TarError, IOError, OSError, EOFError):
        return None


def disk_usage(path):
    """Bytes path occupies on disk (0 when it does not exist)."""
    try:
        st = os.stat(path)
    except OSError:
        return 0
    blocks = getattr(st, "st_blocks", None)
    return blocks * 512 if blocks is not None else st.st_size


def remove_quietly(path):
    try:
        os.unlink(path)
        return True
    except OSError:
        return False


def public_image(img):
    """The returned facts of one image (the table's columns, typed)."""
    out = dict((k, img.get(k)) for k in IMAGE_KEYS)
    for k, v in img.items():
        if k not in out:
            out[k] = v
    return out
