"""The binary container the in-browser components read ("LLB1"): a JSON header and typed arrays.

Layout: ``b"LLB1"``, the header's length as uint32 little-endian, the UTF-8 JSON header, zero
padding to a multiple of 4 bytes, then the arrays back to back (each padded to 4 bytes). The
header's ``arrays`` maps each name to ``[dtype, count, offset]`` with the offset in bytes from
the start of the array section. ``ui/web/decoder.js`` (``llParseBlob``) reads it.
"""
from __future__ import annotations

import json
import struct

import numpy as np

__all__ = ["pack", "unpack", "DTYPES"]

DTYPES = {"f32": np.float32, "i32": np.int32, "u8": np.uint8}
_CODE = {np.dtype(v): k for k, v in DTYPES.items()}


def pack(header: dict, arrays: dict[str, np.ndarray]) -> bytes:
    """Serialise ``header`` (JSON-ready) and ``arrays`` (float32, int32 or uint8; flattened).

    Raises
    ------
    ValueError
        An array of another dtype.
    """
    parts, meta, off = [], {}, 0
    for name, a in arrays.items():
        a = np.ascontiguousarray(a)
        if a.dtype not in _CODE:
            raise ValueError(f"array {name!r}: dtype {a.dtype} is not one of {list(DTYPES)}")
        raw = a.tobytes()
        meta[name] = [_CODE[a.dtype], int(a.size), off]
        pad = -len(raw) % 4
        parts.append(raw + b"\0" * pad)
        off += len(raw) + pad
    head = json.dumps({**header, "arrays": meta}, separators=(",", ":")).encode()
    start = b"LLB1" + struct.pack("<I", len(head)) + head
    return start + b"\0" * (-len(start) % 4) + b"".join(parts)


def unpack(data: bytes) -> tuple[dict, dict[str, np.ndarray]]:
    """Inverse of :func:`pack` (arrays come back flat). Raises ``ValueError`` on bad bytes."""
    if data[:4] != b"LLB1" or len(data) < 8:
        raise ValueError("not an LLB1 blob")
    (n,) = struct.unpack("<I", data[4:8])
    header = json.loads(data[8:8 + n])
    base = (8 + n + 3) & ~3
    arrays = {name: np.frombuffer(data, DTYPES[dt], count, base + off)
              for name, (dt, count, off) in header.pop("arrays").items()}
    return header, arrays
