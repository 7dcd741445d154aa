/**
 * Large file writes and removals done in steps, so that the WAL's fdatasyncs, which every write request waits for,
 * never queue behind one of them.
 *
 * Why: on ext4 (ordered data, and here mounted with online discard) an fdatasync that changes metadata (the WAL
 * appends, so every one of them does) waits for a journal commit, and a commit carries whatever else is pending:
 * the data of a freshly written file being fsync'd, the discards of a removed file's blocks. Measured on this
 * project's VM while a loop appended 2 KiB + fdatasync to a WAL-like file: an 11 MiB file written and fsync'd in one
 * go held the loop's fdatasyncs up to 11-16 ms (0.3 ms otherwise), written in 256 KiB slices each fdatasync'd at
 * most 1.4-3.6 ms; removing a 64 MiB file held one for 18-22 ms, truncating it 4 MiB at a time (each step
 * fdatasync'd, so the step's discards go out in a commit of their own) and then removing it, never over 4 ms.
 * RocksDB paces its file deletions for the same reason (its delete scheduler's truncation in chunks).
 */
import { open, rm, type FileHandle } from 'node:fs/promises';
import { writeFully, type SyncIo } from './io.js';

/** Bytes written between two fdatasyncs by writeInSyncedSlices. */
export const SYNCED_SLICE_BYTES = 256 * 1024;

/** Bytes freed per step by removeInSteps. */
export const REMOVE_STEP_BYTES = 4 * 1024 * 1024;

/**
 * Writes `bytes` at `position` a slice at a time, each slice made durable (io.syncFile) before the next is written.
 * When it returns, all of `bytes` is durable.
 */
export async function writeInSyncedSlices(
  handle: FileHandle,
  bytes: Uint8Array,
  position: number,
  io: SyncIo,
  sliceBytes = SYNCED_SLICE_BYTES,
): Promise<void> {
  if (!(sliceBytes > 0)) throw new RangeError(`slice of ${sliceBytes} bytes`);
  for (let done = 0; done < bytes.length; done += sliceBytes) {
    const end = Math.min(done + sliceBytes, bytes.length);
    await writeFully(handle, bytes.subarray(done, end), position + done);
    await io.syncFile(handle);
  }
}

/**
 * Removes a file after shrinking it `stepBytes` at a time (each step fdatasync'd). A file that is already gone is
 * not an error, as with rm --force. The caller syncs the directory. Only for files that nothing reads any more
 * (segments before the newest snapshot's, snapshots past the retained ones): a crash part-way leaves one of them
 * shorter, which recovery never opens and the next purge removes.
 */
export async function removeInSteps(path: string, io: SyncIo, stepBytes = REMOVE_STEP_BYTES): Promise<void> {
  if (!(stepBytes > 0)) throw new RangeError(`step of ${stepBytes} bytes`);
  let handle: FileHandle;
  try {
    handle = await open(path, 'r+');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    let size = (await handle.stat()).size;
    // Truncation frees blocks from the end; a file within one step is removed as it is.
    while (size > stepBytes) {
      size -= stepBytes;
      await handle.truncate(size);
      await io.syncFile(handle);
    }
  } finally {
    await handle.close();
  }
  await rm(path, { force: true });
}
