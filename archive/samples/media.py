"""The photo and document bytes the sample portals serve: small, valid, and the same in every run.

A photo's bytes come from its article's story and its place in it, not from its address, so the same
story reposted on another portal serves the same photo (stored once by the archive). JPEGs are a grey
320x180 baseline JPEG, its shade drawn from the photo's name, with a comment segment naming it (what the
reading room shows where a portal's photo would be); documents are one-page PDFs.
"""

from __future__ import annotations

import hashlib

# A 1x1 baseline JPEG (SOI APP0 DQT SOF0 DHT SOS EOI) with the standard luminance tables: jpeg() gives it
# its size, a COM segment after SOI and a scan of blocks of one shade.
_JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d0c0b0b0c1912130f"
    "141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27393d38323c2e333432ffc0000b080001000101"
    "011100ffc4001f0000010501010101010100000000000000000102030405060708090a0bffc400b5100002010303020403"
    "050504040000017d01020300041105122131410613516107227114328191a1082342b1c11552d1f02433627282090a1617"
    "18191a25262728292a3435363738393a434445464748494a535455565758595a636465666768696a737475767778797a83"
    "8485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7"
    "d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9faffda0008010100003f00fbd3ffd9"
)


def _segment(comment: bytes) -> bytes:
    return b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment


WIDTH, HEIGHT = 320, 180
_DC_CODES = ["00", "010", "011", "100", "101", "110", "1110", "11110", "111110"]  # by category, standard table
_EOB = "1010"  # end of block: no AC coefficient


def _scan(shade: int) -> bytes:
    """Entropy-coded blocks of one grey: the first block's DC difference, then blocks that differ by 0."""
    diff = shade - 128  # the quantised DC (quantiser 8) of an 8x8 block of that grey
    category = abs(diff).bit_length()
    value = format(diff if diff >= 0 else diff + (1 << category) - 1, f"0{category}b") if category else ""
    blocks = ((WIDTH + 7) // 8) * ((HEIGHT + 7) // 8)
    bits = _DC_CODES[category] + value + _EOB + (_DC_CODES[0] + _EOB) * (blocks - 1)
    bits += "1" * (-len(bits) % 8)
    data = int(bits, 2).to_bytes(len(bits) // 8, "big")
    return data.replace(b"\xff", b"\xff\x00")


def jpeg(name: str, size: int = 0) -> bytes:
    """A valid JPEG naming ``name``; ``size`` pads it with comment segments to about that many bytes (as
    large as a portal's photos, for a bench)."""
    shade = 70 + hashlib.sha256(name.encode()).digest()[0] % 120
    header = _JPEG[:-6].replace(b"\xff\xc0\x00\x0b\x08\x00\x01\x00\x01",
                                b"\xff\xc0\x00\x0b\x08" + HEIGHT.to_bytes(2, "big") + WIDTH.to_bytes(2, "big"))
    body = header[2:] + _scan(shade) + b"\xff\xd9"
    segments = [_segment(f"portal-archive sample photo: {name}".encode())]
    left = size - 2 - len(body) - len(segments[0])
    while left > 4:
        chunk = min(left - 4, 65533)
        segments.append(_segment(hashlib.sha256(f"{name}{left}".encode()).hexdigest().encode() * (chunk // 64)
                                 + b"0" * (chunk % 64)))
        left -= chunk + 4
    return _JPEG[:2] + b"".join(segments) + body


def pdf(title: str, size: int = 0) -> bytes:
    """A one-page PDF naming ``title``; ``size`` pads it to that many bytes (a document too large to keep)."""
    text = title.encode("latin-1", "replace").replace(b"(", b"[").replace(b")", b"]")
    stream = b"BT /F1 12 Tf 72 720 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    if size > len(out):
        out = out.replace(b"%PDF-1.4\n", b"%PDF-1.4\n%" + b"0" * (size - len(out) - 2) + b"\n", 1)
    return out


def photo_name(story: str, index: int) -> str:
    return hashlib.sha256(f"{story}\n{index}".encode()).hexdigest()[:16]
