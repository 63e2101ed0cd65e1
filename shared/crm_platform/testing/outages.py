"""Database outages for integration tests, met by real pymongo clients.

- `unreachable_mongo()`: a client whose address nothing listens at: every call fails as an outage;
- `MongoOutage`: a TCP relay in front of the real server. Clients given its `uri` work normally
  until `cut()`: then its address stops answering (open connections are dropped, new ones are
  closed as soon as they are made, and counted), until `restore()` or until it has turned away
  as many connection attempts as asked. What a test then asserts on is observed: attempts
  turned away, and what the code under test logged or recorded meanwhile.
"""
from __future__ import annotations

import socket
import threading

from pymongo import MongoClient
from pymongo.uri_parser import parse_uri


def unreachable_mongo(timeout_ms: int = 100) -> MongoClient:
    """A real client whose server is gone (nothing listens at its address): what code meets during an outage."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))  # a port the kernel has just seen free
        port = probe.getsockname()[1]
    return MongoClient(f"mongodb://127.0.0.1:{port}/", serverSelectionTimeoutMS=timeout_ms,
                       connectTimeoutMS=timeout_ms, tz_aware=True)


class MongoOutage:
    """A relay to the real MongoDB server that can be cut and restored; use it as a context manager."""

    def __init__(self, mongo_uri: str) -> None:
        host, port = parse_uri(mongo_uri)["nodelist"][0]
        self._target = (host, port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._cut = False
        self._restore_after: int | None = None
        self.turned_away = 0  # connection attempts refused while cut, over the whole test
        self.restored = threading.Event()
        self._closed = False
        threading.Thread(target=self._accept, name="mongo-outage", daemon=True).start()

    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def cut(self, restore_after_attempts: int | None = None) -> None:
        """Make the address stop answering; back by itself after that many connection attempts turned away."""
        with self._lock:
            self._cut = True
            self._restore_after = None if restore_after_attempts is None else self.turned_away + restore_after_attempts
            self.restored.clear()
            dropped, self._open = self._open, set()
        for sock in dropped:
            _close(sock)

    def restore(self) -> None:
        with self._lock:
            self._cut = False
        self.restored.set()

    def close(self) -> None:
        self._closed = True
        _close(self._listener)
        self.cut()

    def __enter__(self) -> "MongoOutage":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            with self._lock:
                if self._cut:
                    self.turned_away += 1
                    if self._restore_after is not None and self.turned_away >= self._restore_after:
                        self._cut = False
                        self.restored.set()
                    _close(client)
                    continue
            try:
                server = socket.create_connection(self._target, timeout=5)
                server.settimeout(None)
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._open |= {client, server}
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass  # dropped by cut(), or by either end
        finally:
            with self._lock:
                self._open -= {source, sink}
            _close(source)
            _close(sink)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # not connected (a listener), or closed already
    sock.close()
