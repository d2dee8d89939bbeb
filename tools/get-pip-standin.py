# Stand-in for the get-pip.py bootstrap script that ansible-test downloads from a host this
# machine cannot reach. ansible-test runs it as `python get-pip.py pip==X [--no-setuptools]
# [--no-wheel]` inside a fresh venv; this does the same with ensurepip and PyPI.
# `make sanity` copies it into ~/.ansible/test/cache/get_pip_<version>.py when missing.
import subprocess
import sys

subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "pip", "install", "--disable-pip-version-check"] + args)
