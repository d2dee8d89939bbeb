"""The sandbox peers, in start order (``needs`` may reorder).

To add a peer: write sandbox/peers/<name>.py with a Peer subclass and list it here.
"""

from sandbox.peers.cloudstack import CloudstackPeer
from sandbox.peers.cos import CosPeer
from sandbox.peers.vcsim import VcsimPeer
from sandbox.peers.powervc import PowervcPeer
from sandbox.peers.powervs import PowervsPeer
from sandbox.peers.sshd import SshdPeer

PEERS = [
    CosPeer,
    VcsimPeer,
    PowervsPeer,
    SshdPeer,
    PowervcPeer,
    CloudstackPeer,
]
