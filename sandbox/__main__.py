"""Command line of the sandbox: ``python -m sandbox up|down|status|peers``."""

import argparse
import json
import os
import sys

from sandbox.launcher import DEFAULT_STATE_DIR, Sandbox, SandboxError, stop_from_state
from sandbox.peers import PEERS
from sandbox.peers.base import PeerError, port_open


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    p.add_argument("--state-dir", default=DEFAULT_STATE_DIR)
    sub = p.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up", help="start the peers in the background and write the inventory")
    up.add_argument("--only", help="comma-separated peer names (with what they need)")
    sub.add_parser("down", help="stop what 'up' started")
    sub.add_parser("status", help="show the running peers")
    sub.add_parser("peers", help="list the known peers")
    args = p.parse_args(argv)
    try:
        if args.cmd == "up":
            only = [n.strip() for n in args.only.split(",")] if args.only else None
            sb = Sandbox(only=only, state_dir=args.state_dir).up()
            print("sandbox: inventory written to %s" % sb.inventory_file)
        elif args.cmd == "down":
            stop_from_state(args.state_dir)
        elif args.cmd == "status":
            path = os.path.join(args.state_dir, "state.json")
            if not os.path.exists(path):
                print("sandbox: not running")
                return 0
            with open(path) as f:
                for peer in json.load(f)["peers"]:
                    if not peer["port"]:  # no service of its own (files on another peer's host)
                        print("%-12s %-16s up" % (peer["name"], "-"))
                        continue
                    print("%-12s 127.0.0.1:%-6s %s" % (peer["name"], peer["port"],
                                                      "up" if port_open(peer["port"]) else "NOT ANSWERING"))
        elif args.cmd == "peers":
            for cls in PEERS:
                print("%-12s %s" % (cls.name, (cls.__doc__ or "").strip().splitlines()[0]))
    except (PeerError, SandboxError) as e:
        print("ERROR: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
