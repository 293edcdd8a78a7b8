#!/usr/bin/env python3
"""Writes small damaged torch-style weight files for OthelloModelTests (standard library only).

    python3 scripts/make_damaged_weight_fixtures.py     # writes Tests/OthelloModelTests/Fixtures/damaged_*.pth

Each is a zip holding archive/data.pkl (a hand-written protocol-2 pickle) and, where needed, archive/data/0.
Every one must be refused with a one-line error, never crash the reader:

  damaged_nested.pth          1,000 lists nested in one another (EMPTY_LIST ... APPEND ...)
  damaged_stored_changed.pth  a list changed after it was stored in another one (depth hidden by the memo)
  damaged_storage_count.pth   a tensor whose storage claims 2^62 float32 elements
  damaged_view.pth            a tensor view whose strides reach past 2^63
  damaged_long_string.pth     a BINUNICODE8 string of 2^63 - 1 bytes
"""
import os
import struct
import zipfile

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "OthelloModelTests", "Fixtures")


def write(name, pickle, storages=None):
    with zipfile.ZipFile(os.path.join(OUT, name), "w", zipfile.ZIP_STORED) as z:   # stored, as torch.save writes
        z.writestr("archive/data.pkl", pickle)
        for key, data in (storages or {}).items():
            z.writestr("archive/data/" + key, data)


def text(s):
    return b"X" + struct.pack("<I", len(s)) + s.encode()


def long(n):
    return b"\x8a\x08" + struct.pack("<q", n)


def tensor_dict(count, shape, stride):
    """{'embed.W_E': _rebuild_tensor_v2(storage of `count` floats, 0, shape, stride)}"""
    pid = b"(" + text("storage") + b"ctorch\nFloatStorage\n" + text("0") + text("cpu") + long(count) + b"tQ"
    args = b"(" + pid + long(0) + b"(" + b"".join(map(long, shape)) + b"t(" + b"".join(map(long, stride)) + b"tt"
    return b"\x80\x02}(" + text("embed.W_E") + b"ctorch._utils\n_rebuild_tensor_v2\n" + args + b"Ru."


def main():
    n = 1_000
    write("damaged_nested.pth", b"\x80\x02" + b"]" * n + b"a" * (n - 1) + b".")
    # Two empty lists in memo 0 and 1; list 1 goes into list 0, then list 1 changes.
    write("damaged_stored_changed.pth", b"\x80\x02]q\x00]q\x01h\x00h\x01a0h\x01Na.")
    write("damaged_storage_count.pth", tensor_dict(1 << 62, [4], [1]), {"0": bytes(16)})
    write("damaged_view.pth", tensor_dict(4, [2, 2], [1 << 62, 1 << 62]), {"0": bytes(16)})
    write("damaged_long_string.pth", b"\x80\x02\x8d" + struct.pack("<Q", (1 << 63) - 1) + b"abc.")


if __name__ == "__main__":
    main()
