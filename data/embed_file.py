#!/usr/bin/env python3
"""Writes a C++ source that holds a file's bytes: embed_file.py INPUT OUTPUT SYMBOL."""
import sys

data = open(sys.argv[1], "rb").read()
symbol = sys.argv[3]
with open(sys.argv[2], "w") as out:
    out.write(f"// Generated from {sys.argv[1]} by data/embed_file.py; do not edit.\n")
    out.write(f"extern const unsigned char {symbol}[];\nextern const unsigned long {symbol}Size;\n")
    out.write(f"alignas(64) const unsigned char {symbol}[] = {{\n")
    for i in range(0, len(data), 24):
        out.write(",".join(str(b) for b in data[i:i + 24]) + ",\n")
    out.write(f"}};\nconst unsigned long {symbol}Size = {len(data)};\n")
