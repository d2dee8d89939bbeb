#!/usr/bin/env bash
# Install (or report) the Debian/Ubuntu packages the sandbox needs:
#   python3-venv (the project's .venv), golang-go + golang-github-vmware-govmomi-dev (vcsim),
#   openssh-server (the SSH host). Idempotent: does nothing when all are present.
set -euo pipefail
pkgs=(python3-venv golang-go golang-github-vmware-govmomi-dev openssh-server openssh-client)
missing=()
if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "system-deps: this is not a Debian/Ubuntu machine (no dpkg-query)." >&2
  echo "system-deps: install by hand: Python 3.11+ with venv, Go >= 1.19 with govmomi in GOPATH, OpenSSH server." >&2
  exit 1
fi
for p in "${pkgs[@]}"; do
  if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=sudo
  else
    echo "system-deps: missing Debian packages: ${missing[*]}" >&2
    echo "system-deps: not root and no password-less sudo; run: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
else
  SUDO=
fi
echo "system-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
