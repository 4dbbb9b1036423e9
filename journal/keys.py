"""The evolving signing key, kept in `<journal-dir>/keys/`.

Layout: `epoch-NNNNNNNN.key` holds the raw 32-byte Ed25519 private key of one epoch
(mode 0600; normally exactly one exists), and `genesis.pub` holds the hex genesis public
key, the root a verifier trusts. The journal itself is the authority on which epoch is
current; key files for any other epoch are leftovers of an interrupted rotation and are
erased on open. Keeping keys next to the segments keeps a node's journal self-contained
for the simulator, which runs many nodes under one temporary directory.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from journal.errors import JournalKeyError
from journal.files import make_directory, secure_erase, write_file_atomically

KEYS_DIRECTORY_NAME = "keys"
GENESIS_PUBLIC_KEY_FILE = "genesis.pub"
_EPOCH_KEY_NAME = re.compile(r"^epoch-(\d{8})\.key$")


class KeyStore:
    """Reads and writes the key files of one journal directory."""

    def __init__(self, journal_directory: Path, *, sync: bool) -> None:
        self.directory = journal_directory / KEYS_DIRECTORY_NAME
        self.sync = sync

    def ensure_directory(self) -> None:
        make_directory(self.directory, mode=0o700, sync=self.sync)

    def epoch_key_path(self, epoch: int) -> Path:
        return self.directory / f"epoch-{epoch:08d}.key"

    def epoch_key_files(self) -> dict[int, Path]:
        if not self.directory.is_dir():
            return {}
        found: dict[int, Path] = {}
        for path in self.directory.iterdir():
            match = _EPOCH_KEY_NAME.match(path.name)
            if match is not None:
                found[int(match.group(1))] = path
        return found

    def write_epoch_key(self, epoch: int, private_key: Ed25519PrivateKey) -> None:
        raw = private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        write_file_atomically(self.epoch_key_path(epoch), raw, mode=0o600, sync=self.sync)

    def load_epoch_key(self, epoch: int) -> Ed25519PrivateKey:
        path = self.epoch_key_path(epoch)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise JournalKeyError(
                f"{path}: the signing key of the current epoch {epoch} is missing; "
                "the journal can be read and verified but not extended"
            ) from None
        if len(raw) != 32:
            raise JournalKeyError(f"{path}: expected 32 raw key bytes, found {len(raw)}")
        return Ed25519PrivateKey.from_private_bytes(raw)

    def erase_all_except(self, epoch: int) -> None:
        """Erase every epoch key but `epoch`'s: older ones for forward security, newer
        ones because a rotation that never became durable must not leave a usable key."""
        for other_epoch, path in self.epoch_key_files().items():
            if other_epoch != epoch:
                secure_erase(path, sync=self.sync)

    def erase_everything(self) -> None:
        for path in self.epoch_key_files().values():
            secure_erase(path, sync=self.sync)

    def write_genesis_public_key(self, public_key: bytes) -> None:
        path = self.directory / GENESIS_PUBLIC_KEY_FILE
        write_file_atomically(path, public_key.hex().encode() + b"\n", mode=0o644, sync=self.sync)


def read_genesis_public_key(journal_directory: Path) -> bytes | None:
    path = journal_directory / KEYS_DIRECTORY_NAME / GENESIS_PUBLIC_KEY_FILE
    try:
        return bytes.fromhex(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def fingerprint(public_key: bytes) -> str:
    """`SHA256:<base64>` of the raw public key, in the style admins know from ssh."""
    digest = hashlib.sha256(public_key).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")
