"""A separate process that runs the sympy proofs (``topic.verify``), one configuration at a time.

Started by ``app.proofs.ProofService`` as ``python -m app.proof_worker``. It reads requests
from stdin and writes answers to stdout, each a length-prefixed pickle:
request ``(job_id, Config)``; answer ``(job_id, True, Verification)`` or
``(job_id, False, "message")``. It exits when stdin closes (the app went away).
A proof in its own process uses the second core and can never freeze the page.
"""

from __future__ import annotations

import pickle
import struct
import sys
from typing import BinaryIO

HEADER = struct.Struct("!I")  # message length, network byte order


def write_message(stream: BinaryIO, payload: object) -> None:
    data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(HEADER.pack(len(data)) + data)
    stream.flush()


def read_message(stream: BinaryIO) -> object | None:
    """The next message, or None at end of stream."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    (length,) = HEADER.unpack(header)
    data = stream.read(length)
    if len(data) < length:
        return None
    return pickle.loads(data)  # noqa: S301 - only our own parent process writes to this pipe


def serve(requests: BinaryIO, answers: BinaryIO) -> None:
    from derivations.catalog import TOPICS

    while (message := read_message(requests)) is not None:
        job_id, config = message
        try:
            verification = TOPICS[config.layer].verify(config)
        except Exception as error:  # noqa: BLE001 - any failure is reported to the app as text
            write_message(answers, (job_id, False, f"{type(error).__name__}: {error}"))
        else:
            write_message(answers, (job_id, True, verification))


if __name__ == "__main__":
    answers = sys.stdout.buffer
    sys.stdout = sys.stderr  # stray prints from libraries must not corrupt the answer stream
    serve(sys.stdin.buffer, answers)
