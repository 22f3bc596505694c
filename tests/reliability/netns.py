"""Hosts of their own for the soaks: network namespaces on one bridged link.

``lan(2)`` makes, in the root namespace, a bridge ``cd-br<N>`` holding 10.231.N.1/24
(the servers' address: PostgreSQL, the Prefect API, the payer simulator) and one network
namespace per host, ``cd-host<N><a|b|...>``, joined to the bridge by a veth link
(``cd-veth<N><x>`` in the root namespace, ``cd-veth<N><x>p`` inside) at 10.231.N.2, .3, ...
Inside a host 127.0.0.1 is its own loopback with nothing listening: whatever a process
there reaches, it reaches over its link. The processes share the machine's filesystem
and pid space (one kernel), so a test can still kill a host's processes and read its runs.

N is the first free number (the bridge's creation is the reservation, so parallel runs
take different ones); everything is removed on leaving, on failure too.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from claimdesk.stack import Stack
from tests.reliability.pg_cluster import ThrowawayCluster

SUBNET_PREFIX = "10.231"


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30, check=check)


def netns_unavailable() -> str | None:
    """Why hosts of their own cannot be made here, or None when they can."""
    if os.geteuid() != 0:
        return "network namespaces and veth links need root"
    if shutil.which("ip") is None:
        return "no `ip` command (iproute2)"
    probe = f"cd-probe{os.getpid()}"
    made = _ip("netns", "add", probe, check=False)
    if made.returncode != 0:
        return f"`ip netns add` failed: {made.stderr.strip()}"
    _ip("netns", "del", probe, check=False)
    return None


@dataclass
class Host:
    namespace: str
    link: str  # the root-namespace end of its veth link
    address: str

    def argv(self) -> list[str]:
        """The prefix that runs a command on this host."""
        return ["ip", "netns", "exec", self.namespace]

    def pids(self) -> list[int]:
        """Every process whose network is this host's."""
        out = _ip("netns", "pids", self.namespace, check=False).stdout
        return [int(p) for p in out.split()]

    def kill(self) -> int:
        """SIGKILL every process on the host, as when it loses power; how many."""
        victims = self.pids()
        for pid in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return len(victims)

    def peers(self) -> set[str]:
        """``address:port`` of every TCP peer the host has or just had (TIME-WAIT too)."""
        out = subprocess.run(
            [*self.argv(), "ss", "-Htan"], capture_output=True, text=True, timeout=30
        ).stdout
        return {line.split()[4] for line in out.splitlines() if len(line.split()) >= 5}


@dataclass
class Lan:
    number: int
    hosts: list[Host] = field(default_factory=list)

    @property
    def bridge(self) -> str:
        return f"cd-br{self.number}"

    @property
    def hub(self) -> str:
        """The root namespace's address on the link: where the servers listen."""
        return f"{SUBNET_PREFIX}.{self.number}.1"

    @property
    def subnet(self) -> str:
        return f"{SUBNET_PREFIX}.{self.number}.0/24"

    def add_host(self) -> Host:
        letter = "abcdefgh"[len(self.hosts)]
        host = Host(
            namespace=f"cd-host{self.number}{letter}",
            link=f"cd-veth{self.number}{letter}",
            address=f"{SUBNET_PREFIX}.{self.number}.{len(self.hosts) + 2}",
        )
        inner = f"{host.link}p"
        _ip("netns", "add", host.namespace)
        self.hosts.append(host)
        _ip("link", "add", host.link, "type", "veth", "peer", "name", inner)
        _ip("link", "set", inner, "netns", host.namespace)
        _ip("link", "set", host.link, "master", self.bridge)
        _ip("link", "set", host.link, "up")
        _ip("-n", host.namespace, "addr", "add", f"{host.address}/24", "dev", inner)
        _ip("-n", host.namespace, "link", "set", "lo", "up")
        _ip("-n", host.namespace, "link", "set", inner, "up")
        return host

    def remove(self) -> None:
        for host in self.hosts:
            with contextlib.suppress(subprocess.TimeoutExpired):
                host.kill()
                _ip("link", "del", host.link, check=False)
                _ip("netns", "del", host.namespace, check=False)
        _ip("link", "del", self.bridge, check=False)


def _reserve() -> Lan:
    used = _ip("-o", "-4", "addr", "show").stdout
    for number in range(1, 255):
        if f" {SUBNET_PREFIX}.{number}." in used:
            continue
        if _ip("link", "add", f"cd-br{number}", "type", "bridge", check=False).returncode:
            continue  # another run holds this number
        lan = Lan(number)
        _ip("addr", "add", f"{lan.hub}/24", "dev", lan.bridge)
        _ip("link", "set", lan.bridge, "up")
        return lan
    raise RuntimeError(f"no free {SUBNET_PREFIX}.N.0/24 for a bridge")


@contextlib.contextmanager
def lan(hosts: int) -> Iterator[Lan]:
    made = _reserve()
    try:
        for _ in range(hosts):
            made.add_host()
        yield made
    finally:
        made.remove()


@dataclass
class HostsStack(Stack):
    """The stack with each named worker started on a host of its own (``hosts``).

    ``host_env`` is added to its children's environment (the simulator's https URL and
    the CA that signed its certificate).
    """

    hosts: dict[str, Host] = field(default_factory=dict)
    host_env: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        return {**super().env(), **self.host_env}

    def _spawn(self, name: str, argv: list[str]) -> None:
        host = self.hosts.get(name)
        super()._spawn(name, [*host.argv(), *argv] if host else argv)


class LanCluster(ThrowawayCluster):
    """A throwaway PostgreSQL that also listens on the link, trusting the hosts' subnet."""

    def __init__(self, lan: Lan) -> None:
        super().__init__()
        self.lan = lan
        with open(self.data / "pg_hba.conf", "a") as hba:
            hba.write(f"host all all {lan.subnet} trust\n")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@{self.lan.hub}:{self.port}/postgres"

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1,{self.lan.hub} "
            "-c fsync=off -c max_connections=300"
        )
        log = str(self.root / "log")
        self._run("pg_ctl", "-D", str(self.data), "-l", log, "-o", options, "-w", "start")


class PeerSampler:
    """Samples each host's TCP peers every ``every`` s in a thread: who reached what."""

    def __init__(self, hosts: list[Host], every: float = 2.0) -> None:
        self.seen: dict[str, set[str]] = {h.namespace: set() for h in hosts}
        self._hosts = hosts
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(self._every):
            for host in self._hosts:
                with contextlib.suppress(subprocess.SubprocessError, OSError):
                    self.seen[host.namespace] |= host.peers()

    def __enter__(self) -> PeerSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def namespace_of(pid: int) -> str | None:
    """The named network namespace process ``pid`` runs in (None: the root one, or gone)."""
    try:
        inode = os.stat(f"/proc/{pid}/ns/net").st_ino
    except OSError:
        return None
    for entry in Path("/run/netns").glob("*"):
        with contextlib.suppress(OSError):
            if entry.stat().st_ino == inode:
                return entry.name
    return None


class TlsProxy:
    """https in front of the plain-http simulator, as a payer's endpoint is off this machine.

    claimdesk sends PHI over plain http only to loopback; a host on the link reaches the
    simulator through this (a self-signed certificate for ``host``, trusted by the
    workers through ``SSL_CERT_FILE``), in a thread of the test's process.
    """

    def __init__(self, host: str, target: tuple[str, int], directory: Path) -> None:
        self.host, self.target = host, target
        self.cert, self._key = directory / "sim-proxy-cert.pem", directory / "sim-proxy-key.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-keyout", str(self._key), "-out", str(self.cert), "-subj", "/CN=payer-sim",
             "-addext", f"subjectAltName=IP:{host}"],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}"

    def __enter__(self) -> TlsProxy:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self._key)
        self._thread.start()
        serving = asyncio.start_server(self._connection, self.host, 0, ssl=context)
        self._server = asyncio.run_coroutine_threadsafe(serving, self._loop).result(30)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._loop.call_soon_threadsafe(self._server.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        await asyncio.gather(_copy(reader, up_writer), _copy(up_reader, writer))


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (OSError, ssl.SSLError):
        pass  # the other side went away: so does this one
    finally:
        with contextlib.suppress(OSError, ssl.SSLError, RuntimeError):
            writer.close()
