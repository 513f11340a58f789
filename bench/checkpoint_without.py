#!/usr/bin/env python3
"""A copy of a cloze checkpoint without some of its tensors, for fine-tuning ablations.

    python3 bench/checkpoint_without.py SOURCE_CHECKPOINT_DIR DEST_DIR NAME_PART [NAME_PART ...]

Every tensor of SOURCE/model.safetensors whose name contains one of the NAME_PARTs is left out
of DEST/model.safetensors (e.g. `albert.pooler`); the manifest's size and sha256 of the model
file are rewritten, so `cloze verify` and `cloze evaluate` accept the copy. A fine-tune from
DEST then reports those tensors as missing and starts them from its seed's initialisation,
as a scratch run does (trainer/finetune_init.h). The optimizer file is copied unchanged.
Plain Python (json, hashlib): safetensors is an 8-byte header length, a JSON header, the data.
"""
import hashlib
import json
import os
import re
import shutil
import struct
import sys


def main(source, dest, name_parts):
    with open(os.path.join(source, "model.safetensors"), "rb") as f:
        raw = f.read()
    header_bytes = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + header_bytes])
    data_start = 8 + header_bytes
    kept_header, chunks, offset, dropped = {}, [], 0, []
    for name, entry in header.items():
        if name == "__metadata__":
            kept_header[name] = entry
            continue
        if any(part in name for part in name_parts):
            dropped.append(name)
            continue
        begin, end = entry["data_offsets"]
        chunks.append(raw[data_start + begin:data_start + end])
        kept_header[name] = dict(entry, data_offsets=[offset, offset + end - begin])
        offset += end - begin
    if not dropped:
        sys.exit(f"{source}/model.safetensors: no tensor name contains any of {name_parts}")
    header_json = json.dumps(kept_header, separators=(",", ":")).encode()
    header_json += b" " * (-len(header_json) % 8)  # the data stays 8-byte aligned
    model = struct.pack("<Q", len(header_json)) + header_json + b"".join(chunks)

    with open(os.path.join(source, "manifest.pb.txt"), encoding="utf-8") as f:
        manifest = f.read()
    pattern = r'(name: "model\.safetensors"\s*bytes: )\d+(\s*sha256: ")[0-9a-f]+'
    manifest, found = re.subn(pattern, rf"\g<1>{len(model)}\g<2>{hashlib.sha256(model).hexdigest()}", manifest)
    if found != 1:
        sys.exit(f"{source}/manifest.pb.txt: no files entry for model.safetensors")

    os.makedirs(dest, exist_ok=True)
    with open(os.path.join(dest, "model.safetensors"), "wb") as f:
        f.write(model)
    shutil.copy(os.path.join(source, "optimizer.safetensors"), os.path.join(dest, "optimizer.safetensors"))
    with open(os.path.join(dest, "manifest.pb.txt"), "w", encoding="utf-8") as f:
        f.write(manifest)
    print(f"{dest}: {len(dropped)} tensors left out: {', '.join(dropped)}")


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__.strip().splitlines()[2].strip())
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
