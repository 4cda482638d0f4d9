"""A network ESC/POS printer for tests: a TCP server on a free loopback port that reads the byte
stream as a printer does and keeps what it printed.

It understands what Diancan sends (and answers what a printer answers): ESC @, FS & / FS . (Chinese
mode), text in GB18030 (or Big5) up to each LF, ESC ! / GS ! (size), ESC E (bold), ESC a
(alignment), ESC d (feed), ESC t, ESC B n t (buzzer), GS V (cut: ends a document), GS ( k (QR
code: model, size, error level, store, print), and the real-time status queries DLE EOT 1/2/4,
answered at once with a status byte. It can be switched off (connections refused), opened
(cover open: offline), hung (no answer) or run out of paper; while out of paper or offline it prints nothing of
what it is sent, as a printer that lost its buffer.
"""

import socket
import threading
import time
from dataclasses import dataclass, field

ESC, FS, GS, DLE, LF = 0x1B, 0x1C, 0x1D, 0x10, 0x0A


@dataclass
class Line:
    text: str
    big: bool = False
    bold: bool = False
    align: str = "left"


@dataclass
class Document:
    """What came out between two cuts."""

    lines: list = field(default_factory=list)
    qr_codes: list = field(default_factory=list)
    qr_size: int = 0
    beeps: int = 0
    cut: bool = False

    @property
    def text(self):
        return "\n".join(line.text for line in self.lines)

    def big_lines(self):
        return [line.text for line in self.lines if line.big]


class FakePrinter:
    def __init__(self, encoding="gb18030"):
        self.encoding = encoding
        self.documents = []
        self.lock = threading.Lock()
        self.paper_out = False
        self.cover_open = False
        self.mute = False  # hung: reads, never answers a status query
        self.bytes_read = 0
        self.first_byte_at = None  # time.monotonic() of the first byte read, status or print
        self.status_queries = 0
        self.connections = 0
        self.lost_documents = 0
        self.listener = None
        self.port = None
        self._open_sockets = set()
        self.power_on()

    # Switching it ------------------------------------------------------------------------------

    def power_on(self):
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port or 0))
        listener.listen(16)
        self.port = listener.getsockname()[1]
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def power_off(self):
        """Off the network: new connections are refused, open ones dropped."""
        listener, self.listener = self.listener, None
        if listener:
            # shutdown() first: a bare close() leaves the port listening while the accepting
            # thread is still blocked in accept().
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()
        for sock in list(self._open_sockets):
            try:
                sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            except OSError:
                pass

    @property
    def online(self):
        return not self.paper_out and not self.cover_open

    # Reading -----------------------------------------------------------------------------------

    def _accept(self, listener):
        while True:
            try:
                sock, _address = listener.accept()
            except OSError:
                return
            self.connections += 1
            self._open_sockets.add(sock)
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock):
        parser = Parser(self)
        try:
            while True:
                try:
                    chunk = sock.recv(4096)
                except OSError:
                    break
                if not chunk:
                    break
                with self.lock:
                    if self.first_byte_at is None:
                        self.first_byte_at = time.monotonic()
                    self.bytes_read += len(chunk)
                for byte in chunk:
                    answer = parser.feed(byte)
                    if answer is not None and not self.mute:
                        try:
                            sock.sendall(bytes([answer]))
                        except OSError:
                            break
            parser.end()
        finally:
            self._open_sockets.discard(sock)
            sock.close()

    def status_byte(self, n):
        self.status_queries += 1
        if n == 1:  # printer status: bit 3 offline
            return 0x12 | (0x08 if not self.online else 0)
        if n == 2:  # offline cause: bit 2 cover open, bit 5 paper end stop
            return 0x12 | (0x04 if self.cover_open else 0) | (0x20 if self.paper_out else 0)
        if n == 3:
            return 0x12
        if n == 4:  # roll paper sensor: bits 5 and 6 paper end
            return 0x12 | (0x60 if self.paper_out else 0)
        return 0x12

    def printed(self, document):
        with self.lock:
            if self.online:
                self.documents.append(document)
            else:
                self.lost_documents += 1

    # What tests read ---------------------------------------------------------------------------

    def wait_for(self, count, timeout=20):
        deadline = time.monotonic() + timeout
        while len(self.documents) < count:
            if time.monotonic() > deadline:
                texts = [d.text for d in self.documents]
                raise AssertionError(f"{len(self.documents)} of {count} documents: {texts}")
            time.sleep(0.05)
        return self.documents


class Parser:
    """ESC/POS, one byte at a time, as a printer reads it."""

    def __init__(self, printer):
        self.printer = printer
        self.document = Document()
        self.text = bytearray()
        self.pending = []  # a command being read: its bytes so far
        self.reset()

    def reset(self):
        self.big = False
        self.bold = False
        self.align = "left"
        self.chinese = False
        self.qr = {}

    def _flush_line(self):
        text = bytes(self.text).decode(self.printer.encoding)
        self.document.lines.append(Line(text, self.big, self.bold, self.align))
        self.text = bytearray()

    def _finish(self, cut):
        if self.text:
            self._flush_line()
        self.document.cut = cut
        if self.document.lines or self.document.qr_codes:
            self.printer.printed(self.document)
        self.document = Document()

    def end(self):
        """The connection closed: what was not cut yet came out uncut."""
        if self.text or self.document.lines or self.document.qr_codes:
            self._finish(cut=False)

    def feed(self, byte):
        """Read a byte; returns a status byte to answer, or None."""
        if self.pending:
            self.pending.append(byte)
            return self._command()
        if byte in (ESC, FS, GS, DLE):
            self.pending = [byte]
            return None
        if byte == LF:
            self._flush_line()
        elif byte >= 0x20:
            self.text.append(byte)
        return None

    def _command(self):
        p = self.pending
        first = p[0]
        if len(p) < 2:
            return None
        name = p[1]
        if first == DLE:
            if name != 0x04:
                raise ValueError(f"unknown DLE command {p!r}")
            if len(p) < 3:
                return None
            self.pending = []
            return self.printer.status_byte(p[2])
        if first == ESC:
            sizes = {0x40: 0, 0x61: 1, 0x45: 1, 0x21: 1, 0x2D: 1, 0x4D: 1, 0x47: 1, 0x74: 1,
                     0x64: 1, 0x4A: 1, 0x32: 0, 0x33: 1, 0x42: 2, 0x7B: 1}  # fmt: skip
            if name not in sizes:
                raise ValueError(f"unknown ESC command {bytes(p)!r}")
            if len(p) < 2 + sizes[name]:
                return None
            self.pending = []
            args = p[2:]
            if name == 0x40:
                self.reset()
            elif name == 0x61:
                self.align = {0: "left", 1: "center", 2: "right", 48: "left", 49: "center",
                              50: "right"}[args[0]]  # fmt: skip
            elif name == 0x45:
                self.bold = bool(args[0] & 1)
            elif name == 0x42:
                self.document.beeps += 1
            elif name == 0x64 and self.text:  # ESC d n: print what is pending and feed
                self._flush_line()
            return None
        if first == FS:
            if name in (0x26, 0x2E):  # FS & Chinese mode on, FS . off
                self.pending = []
                self.chinese = name == 0x26
                return None
            raise ValueError(f"unknown FS command {bytes(p)!r}")
        if first == GS:
            if name == 0x21:  # GS ! n: character size, for Chinese characters too
                if len(p) < 3:
                    return None
                self.pending = []
                self.big = p[2] >= 0x11
                return None
            if name == 0x42:  # GS B n: reverse
                if len(p) < 3:
                    return None
                self.pending = []
                return None
            if name == 0x56:  # GS V m [n]: cut
                if len(p) < 3:
                    return None
                if p[2] in (65, 66, 97, 98, 103, 104) and len(p) < 4:
                    return None
                self.pending = []
                self._finish(cut=True)
                return None
            if name == 0x28:  # GS ( k pL pH cn fn [m] data
                if len(p) < 5:
                    return None
                length = p[3] + 256 * p[4]
                if len(p) < 5 + length:
                    return None
                self.pending = []
                self._qr(p[2], bytes(p[5:]))
                return None
            raise ValueError(f"unknown GS command {bytes(p)!r}")
        raise ValueError(f"unknown command {bytes(p)!r}")

    def _qr(self, kind, body):
        if kind != ord("k") or body[0] != 49:
            return  # another 2D code or a graphics command: not ours
        fn = body[1]
        if fn == 67:
            self.qr["size"] = body[2]
        elif fn == 69:
            self.qr["ec"] = body[2]
        elif fn == 80:  # store: m (48) then the data
            self.qr["data"] = body[3:]
        elif fn == 81:  # print what was stored
            if self.text:
                self._flush_line()
            self.document.qr_codes.append(self.qr["data"].decode("utf-8"))
            self.document.qr_size = self.qr.get("size", 3)
