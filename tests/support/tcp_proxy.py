"""A TCP proxy that a test can cut: every connection through it is dropped and new ones
are refused until it is restored. Used between the services and RabbitMQ.

It can also stall: connections stay open (and new ones are accepted) but nothing is
forwarded either way until it is restored, as a hung server or a silent network would
(used between a service and its store)."""

import socket
import threading


class CuttableProxy:
    def __init__(self, target_port, listen_port=0, target_host="127.0.0.1"):
        self.target = (target_host, target_port)
        self.server = socket.create_server(("127.0.0.1", listen_port))
        self.port = self.server.getsockname()[1]
        self.open = threading.Event()
        self.open.set()
        self.flowing = threading.Event()
        self.flowing.set()
        self.connections = set()
        self.pipes = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            if not self.open.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.connections.update({client, upstream})
            for a, b in ((client, upstream), (upstream, client)):
                pipe = threading.Thread(target=self._pipe, args=(a, b), daemon=True)
                with self.lock:
                    self.pipes = [p for p in self.pipes if p.is_alive()] + [pipe]
                pipe.start()

    def _pipe(self, source, sink):
        # each socket is closed by the one pipe that reads it, never under another reader's
        # feet (under eventlet a socket closed while another green thread waits on it leaves
        # that wait behind, and the next socket given the same descriptor trips over it)
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                self.flowing.wait()  # stalled: held here, neither sent nor refused
                sink.sendall(data)
        except (OSError, EOFError):  # EOFError: eventlet's recv on a socket shut meanwhile
            pass
        finally:
            _shutdown(sink)  # the other pipe, reading it, sees the end and closes it
            try:
                source.close()
            except OSError:
                pass

    def cut(self):
        """Drop every connection and refuse new ones."""
        self.open.clear()
        with self.lock:
            connections, self.connections = self.connections, set()
        for sock in connections:
            _shutdown(sock)  # its pipe wakes up and closes it

    def stall(self):
        """Keep every connection open and accept new ones, but forward nothing."""
        self.flowing.clear()

    def restore(self):
        self.open.set()
        self.flowing.set()

    def close(self):
        self.flowing.set()
        self.cut()
        self.server.close()
        with self.lock:
            pipes = list(self.pipes)
        for pipe in pipes:
            pipe.join(5)


def _shutdown(sock):
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
