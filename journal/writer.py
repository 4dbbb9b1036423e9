"""`Journal`: append records cheaply, make them durable and sealed in group commits.

The split between `append` and `commit` is the whole performance story. `append` only
encodes the body and buffers it (no hashing, no I/O, no signature), so the engine can
journal every event; the hash chain and the frames are built for the whole batch when it
is sealed (or when `head` is asked for), which for an idle daemon, whose every append
runs with cold caches, is one hashing loop a second instead of one per record. `commit`
writes everything buffered, adds one Ed25519 seal over the new head, and fdatasyncs: one
signature and one flush per group, however many records it carries. The daemon calls
`commit` from a worker thread, so the journal is thread-safe: `_lock` guards the chain
and the buffers (held briefly), and `_commit_lock` keeps commits in order while the slow
fdatasync runs outside `_lock`.

Forward security: the signing key changes with every new segment and at least every
`epoch_interval_ns`; the new public key is announced in a record signed by the old key,
and the old private key is erased once the first seal under the new key is durable.

A failed write or fdatasync poisons the journal: the kernel may have dropped the dirty
pages, so retrying could acknowledge records that are gone. The node must stop.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import msgpack
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from journal import kinds
from journal.errors import JournalClosedError, JournalError, JournalFsyncError
from journal.files import fsync_directory, make_directory
from journal.framing import (
    BODY_BYTES_MAX,
    FORMAT_VERSION,
    FRAME_HEADER,
    GENESIS_PREVIOUS_HEAD,
    encode_segment_header,
)
from journal.keys import KeyStore
from journal.opening import OpenedTail, RecoveryReport, open_tail
from journal.peers import PeerSealBook, PeerSealOutcome
from journal.retention import PruneResult, build_manifest
from journal.seal import Seal, announce_epoch, public_key_bytes, seal_payload, sign_seal
from journal.segments import segment_name

SEGMENT_BYTES_MAX_DEFAULT = 64 * 1024 * 1024
EPOCH_INTERVAL_NS_DEFAULT = 3600 * 1_000_000_000


class Journal:
    """One node's open journal. Create with `Journal.open`, never directly."""

    def __init__(self, *, directory: Path, node: str, sync: bool, tail: OpenedTail,
                 segment_bytes_max: int, epoch_interval_ns: int) -> None:
        self.directory = directory
        self.node = node
        self.sync = sync
        self.recovery: RecoveryReport | None = tail.recovery
        self._keys = KeyStore(directory, sync=sync)
        self._segment_bytes_max = segment_bytes_max
        self._epoch_interval_ns = epoch_interval_ns
        self._lock = threading.Lock()
        self._commit_lock = threading.Lock()
        self._packer = msgpack.Packer(use_bin_type=True)
        self._unchained: list[bytes] = []  # appended bodies, not yet hashed and framed
        self._pending: list[bytes] = []  # framed records waiting for the next write
        self._head = tail.head
        self._next_seq = tail.next_seq
        self._epoch = tail.epoch
        self._private_key: Ed25519PrivateKey = tail.private_key
        self._epoch_started_monotonic_ns = tail.epoch_started_monotonic_ns
        self._genesis_public_key = tail.genesis_public_key
        self._last_monotonic_ns = tail.last_monotonic_ns
        self._last_wall_ns = tail.last_wall_ns
        self._latest_seal: Seal | None = tail.last_seal
        self._segment_index = tail.segment_index
        self._segment_bytes = tail.segment_bytes
        self._descriptor: int | None = tail.descriptor
        self._is_directory_sync_due = tail.is_new_file
        self._erase_old_keys_after_commit = False
        self._failure: JournalError | None = None
        self._peers = PeerSealBook(tail.peer_seals)

    # ----------------------------------------------------------------- opening

    @classmethod
    def open(
        cls,
        directory: Path,
        *,
        node: str,
        sync: bool = True,
        monotonic_ns: int | None = None,
        wall_ns: int | None = None,
        segment_bytes_max: int = SEGMENT_BYTES_MAX_DEFAULT,
        epoch_interval_ns: int = EPOCH_INTERVAL_NS_DEFAULT,
    ) -> Journal:
        """Open `directory`, creating it (with a genesis key) or recovering a torn tail.

        `sync=False` skips every fsync (files and seals are still real): for the simulator
        and tests only, never for production. `monotonic_ns`/`wall_ns` time the records
        the journal writes itself on open (creation, recovery); they default to the clocks.
        Raises JournalCorruptError (nothing changed) or JournalKeyError.
        """
        assert segment_bytes_max > 0 and epoch_interval_ns > 0
        now_monotonic_ns = time.monotonic_ns() if monotonic_ns is None else monotonic_ns
        now_wall_ns = time.time_ns() if wall_ns is None else wall_ns
        make_directory(directory, mode=0o750, sync=sync)
        tail = open_tail(directory, node=node, sync=sync)
        journal = cls(directory=directory, node=node, sync=sync, tail=tail,
                      segment_bytes_max=segment_bytes_max, epoch_interval_ns=epoch_interval_ns)
        if tail.is_new_journal:
            journal._append_locked(
                kinds.JOURNAL_CREATED, [FORMAT_VERSION, node, journal._genesis_public_key],
                monotonic_ns=now_monotonic_ns, wall_ns=now_wall_ns)
            journal._epoch_started_monotonic_ns = now_monotonic_ns
        if tail.recovery is not None:
            recovery = tail.recovery
            journal._append_locked(
                kinds.JOURNAL_RECOVERED,
                [recovery.bytes_dropped, recovery.dropped_sha256, recovery.segment,
                 recovery.offset, recovery.reason],
                monotonic_ns=now_monotonic_ns, wall_ns=now_wall_ns)
        if journal._has_buffered_locked():
            journal.commit()
        return journal

    # ----------------------------------------------------------------- public API

    @property
    def next_seq(self) -> int:
        return self._next_seq

    @property
    def head(self) -> bytes:
        """The chain head after the last appended record (committed or not)."""
        with self._lock:
            self._chain_locked()
            return self._head

    @property
    def has_uncommitted_records(self) -> bool:
        """Whether records were appended since the last commit began (a commit would seal)."""
        return self._has_buffered_locked()

    @property
    def epoch(self) -> int:
        return self._epoch

    @property
    def genesis_public_key(self) -> bytes:
        return self._genesis_public_key

    def append(self, kind: int, payload: object, *, monotonic_ns: int, wall_ns: int) -> int:
        """Buffer one record and return its seq. Not durable until `commit()` returns."""
        if type(kind) is not int or kind < kinds.FIRST_ENGINE_KIND:
            raise ValueError(f"kind {kind!r}: kinds are integers; those below "
                             f"{kinds.FIRST_ENGINE_KIND} belong to the journal")
        with self._lock:
            return self._append_locked(kind, payload, monotonic_ns=monotonic_ns, wall_ns=wall_ns)

    def commit(self) -> Seal:
        """Write, seal and fdatasync everything appended so far; return the new seal.

        Every record appended before the call is durable when it returns. Blocking: the
        daemon runs it in a worker thread. With nothing new to seal it returns at once.
        """
        with self._commit_lock:
            with self._lock:
                self._check_usable()
                self._chain_locked()
                if not self._pending:
                    assert self._latest_seal is not None
                    return self._latest_seal
                if self._is_epoch_due_locked():
                    self._stop_on_os_error(self._begin_epoch_locked)
                seal = self._append_seal_locked()
                data = b"".join(self._pending)
                self._pending.clear()
                descriptor = self._descriptor
                is_directory_sync_due = self._is_directory_sync_due
                self._is_directory_sync_due = False
            assert descriptor is not None
            self._write_durably(descriptor, data, is_directory_sync_due)
            with self._lock:
                self._segment_bytes += len(data)
                self._latest_seal = seal
                if self._erase_old_keys_after_commit:
                    self._keys.erase_all_except(self._epoch)
                    self._erase_old_keys_after_commit = False
                if self._segment_bytes >= self._segment_bytes_max:
                    self._stop_on_os_error(self._rotate_segment_locked)
            return seal

    def latest_seal(self) -> Seal:
        """The newest durable seal: small enough (~120 bytes) for heartbeats to carry."""
        with self._lock:
            assert self._latest_seal is not None, "open() always commits a seal"
            return self._latest_seal

    def record_peer_seal(self, seal: Seal, *, monotonic_ns: int, wall_ns: int,
                         public_key: bytes | None = None) -> PeerSealOutcome:
        """Journal a peer's seal if it advances; detect equivocation.

        With `public_key` (the peer's key for `seal.epoch`) the signature is checked and a
        bad one is rejected unjournaled. Two seals for one seq with different heads append
        an EQUIVOCATION_ALARM record (commit it!) and return the evidence.
        """
        if seal.node == self.node:
            raise ValueError("record_peer_seal takes seals of other nodes")
        is_signature_checked = public_key is not None
        if public_key is not None and not seal.is_signed_by(public_key):
            return PeerSealOutcome.bad_signature(seal)
        with self._lock:
            self._check_usable()
            outcome = self._peers.consider(seal, is_signature_checked=is_signature_checked,
                                           public_key=public_key)
            record = outcome.record_to_append()
            if record is not None:
                kind, payload = record
                self._append_locked(kind, payload, monotonic_ns=monotonic_ns, wall_ns=wall_ns)
            return outcome

    def prune(self, snapshot: object, *, monotonic_ns: int, wall_ns: int) -> PruneResult:
        """Delete every segment before the current one, behind a signed snapshot.

        `snapshot` is the caller's derived state (msgpack-serializable) as of this point;
        replay starts from the newest SNAPSHOT record. The snapshot and a manifest of the
        pruned segments are committed before any file is removed.
        """
        with self._lock:
            self._check_usable()
            self._append_locked(kinds.SNAPSHOT, [snapshot], monotonic_ns=monotonic_ns,
                                wall_ns=wall_ns)
            # The snapshot's own segment: commit may rotate, but the record stays here.
            snapshot_segment_index = self._segment_index
        self.commit()
        manifest, paths, bytes_freed = build_manifest(
            self.directory, node=self.node, genesis_public_key=self._genesis_public_key,
            prune_before_index=snapshot_segment_index)
        if not paths:
            return PruneResult(segments_pruned=0, bytes_freed=0, last_pruned_seq=None)
        with self._lock:
            self._append_locked(kinds.PRUNE_MANIFEST, manifest.to_payload(),
                                monotonic_ns=monotonic_ns, wall_ns=wall_ns)
        self.commit()  # the manifest is durable before any segment disappears
        for path in paths:
            path.unlink()
        if self.sync:
            fsync_directory(self.directory)
        return PruneResult(segments_pruned=len(paths), bytes_freed=bytes_freed,
                           last_pruned_seq=manifest.pruned[-1].last_seq)

    def close(self) -> None:
        """Commit what is buffered, then close. Idempotent."""
        if self._descriptor is None:
            return
        try:
            if self._failure is None and self._has_buffered_locked():
                self.commit()
        finally:
            with self._lock:
                if self._descriptor is not None:
                    os.close(self._descriptor)
                    self._descriptor = None
                    if self._failure is None:
                        self._failure = JournalClosedError("the journal is closed")

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ----------------------------------------------------------------- internals

    def _check_usable(self) -> None:
        if self._failure is not None:
            raise self._failure

    def _append_locked(self, kind: int, payload: object, *, monotonic_ns: int,
                       wall_ns: int, is_time_kept: bool = True) -> int:
        self._check_usable()
        seq = self._next_seq
        body: bytes = self._packer.pack([seq, kind, monotonic_ns, wall_ns, payload])
        if len(body) > BODY_BYTES_MAX:
            raise ValueError(f"a record of {len(body)} bytes exceeds the {BODY_BYTES_MAX} "
                             "byte limit (readers would take it for damage)")
        self._unchained.append(body)
        self._next_seq = seq + 1
        if is_time_kept:
            self._last_monotonic_ns = monotonic_ns
            self._last_wall_ns = wall_ns
        return seq

    def _has_buffered_locked(self) -> bool:
        return bool(self._unchained or self._pending)

    def _chain_locked(self) -> None:
        """Extend the hash chain over the bodies appended since the last call, and frame them."""
        if not self._unchained:
            return
        head, pending = self._head, self._pending
        for body in self._unchained:
            # One concatenation and one hash call: the cheapest SHA-256(head || body) in
            # CPython, and the header and body go out as one buffer.
            head = hashlib.sha256(head + body).digest()
            pending.append(FRAME_HEADER.pack(len(body), zlib.crc32(body)) + body)
        self._head = head
        self._unchained.clear()

    def _append_seal_locked(self) -> Seal:
        self._chain_locked()  # the seal signs the head after every record before it
        seal = sign_seal(self._private_key, node=self.node, seq=self._next_seq - 1,
                         head=self._head, epoch=self._epoch)
        # Times 0: a seal's time is that of the record it seals; 16 bytes saved per commit.
        self._append_locked(kinds.SEAL, seal_payload(seal), monotonic_ns=0, wall_ns=0,
                            is_time_kept=False)
        self._chain_locked()
        return seal

    def _is_epoch_due_locked(self) -> bool:
        elapsed_ns = self._last_monotonic_ns - self._epoch_started_monotonic_ns
        # Negative: the monotonic clock restarted (a reboot), so the age is unknown.
        return elapsed_ns >= self._epoch_interval_ns or elapsed_ns < 0

    def _begin_epoch_locked(self) -> None:
        """Make a new key durable, announce it signed by the old one, switch to it.

        The old private key is erased after the next seal is durable (commit does it),
        so a crash in between leaves exactly one key that matches the journal.
        """
        new_key = Ed25519PrivateKey.generate()
        new_epoch = self._epoch + 1
        self._keys.write_epoch_key(new_epoch, new_key)
        announcement = announce_epoch(self._private_key, node=self.node, epoch=new_epoch,
                                      public_key=public_key_bytes(new_key))
        self._append_locked(kinds.KEY_EPOCH, announcement.to_payload(),
                            monotonic_ns=self._last_monotonic_ns, wall_ns=self._last_wall_ns)
        self._epoch = new_epoch
        self._private_key = new_key
        self._epoch_started_monotonic_ns = self._last_monotonic_ns
        self._erase_old_keys_after_commit = True

    def _stop_on_os_error(self, action: Callable[[], None]) -> None:
        """Key files and new segments fail like any write: the journal stops."""
        try:
            action()
        except OSError as error:
            failure = JournalFsyncError(
                f"{self.directory}: starting a key epoch or segment failed ({error}); the "
                "node must stop"
            )
            self._failure = failure
            raise failure from error

    def _write_durably(self, descriptor: int, data: bytes, is_directory_sync_due: bool) -> None:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(descriptor, view):]
            if self.sync:
                os.fdatasync(descriptor)
                if is_directory_sync_due:
                    fsync_directory(self.directory)
        except OSError as error:
            failure = JournalFsyncError(
                f"{self.directory}: journal write/fdatasync failed ({error}); records may be "
                "lost, the node must stop (fsync is never retried)"
            )
            self._failure = failure
            raise failure from error

    def _rotate_segment_locked(self) -> None:
        """Start the next segment: header, key-epoch announcement, seal, all durable."""
        self._chain_locked()
        if self._pending:
            # Appended while the last commit synced; they chain before the new segment.
            seal = self._append_seal_locked()
            data = b"".join(self._pending)
            self._pending.clear()
            assert self._descriptor is not None
            self._write_durably(self._descriptor, data, False)
            self._latest_seal = seal
        assert self._descriptor is not None
        os.close(self._descriptor)
        self._descriptor = None
        self._segment_index += 1
        path = self.directory / segment_name(self._segment_index)
        header = encode_segment_header(node=self.node, segment_index=self._segment_index,
                                       first_seq=self._next_seq, previous_head=self._head)
        self._descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND,
                                   0o640)
        self._begin_epoch_locked()
        seal = self._append_seal_locked()
        data = header + b"".join(self._pending)
        self._pending.clear()
        self._write_durably(self._descriptor, data, True)
        self._segment_bytes = len(data)
        self._latest_seal = seal
        self._keys.erase_all_except(self._epoch)
        self._erase_old_keys_after_commit = False


__all__ = ["GENESIS_PREVIOUS_HEAD", "Journal"]
