"""Writes an empty wheel NAME-VERSION-py3-none-any.whl (metadata only) into a folder: the stand-in
for another torch in `make wheel-check`, so pip's resolver can be asked, without a 200 MB download,
whether it would install torchauc beside that torch. Usage: fake_wheel.py NAME VERSION DIR"""

import base64
import hashlib
import sys
import zipfile
from pathlib import Path


def main(name, version, folder):
    dist = f"{name}-{version}.dist-info"
    files = {
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: fake_wheel\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    record.append(f"{dist}/RECORD,,")
    files[f"{dist}/RECORD"] = "\n".join(record) + "\n"
    out = Path(folder) / f"{name}-{version}-py3-none-any.whl"
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w") as z:
        for path, text in files.items():
            z.writestr(path, text)
    print(out)


if __name__ == "__main__":
    main(*sys.argv[1:])
