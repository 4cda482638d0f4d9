"""Raw TCP to a network ESC/POS printer (port 9100), with its real-time status (DLE EOT n).

A job is written only when the printer says it is online with paper, and counts as printed only
when the printer answers the same questions fine after its bytes: a printer that is off,
unreachable, offline (cover open) or out of paper raises `PrinterError`, and the job waits.
"""

import socket

from escpos.constants import RT_STATUS_ONLINE, RT_STATUS_PAPER

CONNECT_SECONDS = 3
ANSWER_SECONDS = 5
# A status byte always has bits 1 and 4 set and bits 0 and 7 clear (ESC/POS, DLE EOT).
FIXED_MASK, FIXED_BITS = 0x93, 0x12
OFFLINE = 0x08  # DLE EOT 1, bit 3
PAPER_END = 0x60  # DLE EOT 4, bits 5 and 6 (roll paper end)


class PrinterError(Exception):
    """Why a printer did not take a job: `code` is one of `unreachable`, `no_answer`,
    `bad_answer`, `offline`, `paper_out`."""

    def __init__(self, code, detail=""):
        super().__init__(f"{code} {detail}".strip())
        self.code = code


def _status(sock, query):
    sock.sendall(query)
    answer = sock.recv(1)
    if not answer:
        raise PrinterError("no_answer", "closed")
    byte = answer[0]
    if byte & FIXED_MASK != FIXED_BITS:
        raise PrinterError("bad_answer", f"0x{byte:02x}")
    return byte


def check(sock):
    """Online (DLE EOT 1) and with paper (DLE EOT 4), or PrinterError."""
    if _status(sock, RT_STATUS_ONLINE) & OFFLINE:
        raise PrinterError("offline")
    if _status(sock, RT_STATUS_PAPER) & PAPER_END:
        raise PrinterError("paper_out")


def send(host, port, data, *, timeout=ANSWER_SECONDS):
    """Ask, write, ask again; PrinterError when any step fails."""
    try:
        with socket.create_connection((host, port), timeout=CONNECT_SECONDS) as sock:
            sock.settimeout(timeout)
            check(sock)
            sock.sendall(data)
            check(sock)
    except TimeoutError as error:
        raise PrinterError("no_answer", str(error)) from error
    except OSError as error:
        raise PrinterError("unreachable", error.strerror or str(error)) from error
