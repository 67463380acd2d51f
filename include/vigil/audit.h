/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The tamper-evident audit log.
 *
 * Every access decision and administrative action is an entry, durable
 * (fsynced) before the caller may act on it.  Entries name customers by id
 * only; a missed lookup is recorded as a keyed hash of what was looked for.
 * Integrity has four layers (docs/internals/audit.md):
 *
 *   - framing: every frame has a length, so a torn tail is found and cut;
 *   - a public hash chain: chain_i = BLAKE2b(chain_{i-1} || leaf_i);
 *   - a forward-secure MAC chain: entry i is MACed under K_{i+1}, where
 *     K_{j+1} = BLAKE2b(K_j, "evolve"): the key follows the position, the
 *     writer keeps only the next position's key (persisted at every
 *     checkpoint, erasing the older one), and K_0 is written once for
 *     offline keeping, so whoever seizes the server cannot MAC any entry
 *     already written;
 *   - an RFC 9162 Merkle tree over the entries with Ed25519-signed C2SP
 *     checkpoints, also written to witness sinks outside the vault.
 *
 * A vault keeps one chain per writer ("cli" for the command-line tool,
 * one per vigild node), each in DIR/audit/<chain>/.  One process at a
 * time writes a chain (an flock); any number read it.
 */
#ifndef VIGIL_AUDIT_H
#define VIGIL_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/crypto.h"
#include "vigil/error.h"
#include "vigil/merkle.h"
#include "vigil/note.h"

#define VG_AUDIT_STR_MAX 255	/* bytes in any text field of an entry */
#define VG_AUDIT_BODY_MAX 4096	/* bytes in an encoded entry */
#define VG_PROBEBYTES 16	/* keyed hash of a missed lookup value */
#define VG_CHAIN_NAME_MAX 32	/* [a-z0-9][a-z0-9-]{0,31} */

/*
 * An entry to append.  Text fields are printable ASCII (0x20..0x7e), at
 * most VG_AUDIT_STR_MAX bytes; NULL or "" means absent.  They name things
 * (ids, codes, field names), never personal values.  Pointers are
 * borrowed for the duration of vg_audit_append().
 */
struct vg_audit_entry {
	const char *principal;		/* who: "local:alice", "p_123" */
	const char *action;		/* lookup, view, reveal, import, ... */
	const unsigned char *customer;	/* VG_IDBYTES, or NULL */
	const char *fields;		/* fields revealed: "name,phone" */
	const char *purpose;
	const char *case_id;
	const char *decision;		/* allow, deny, step_up, miss */
	const char *reason;		/* reason code */
	const char *request_id;
	const char *client;		/* client address or "cli" */
	const unsigned char *probe;	/* VG_PROBEBYTES, or NULL */
	const char *detail;		/* small extra text: "customers=1000" */
};

/* A decoded entry, as read back (owned copies). */
struct vg_audit_record {
	uint64_t seq;			/* gapless, from 0, in log order */
	int64_t time_ns;		/* unix time, ns; non-decreasing */
	uint32_t mac_epoch;
	char node[VG_CHAIN_NAME_MAX + 1];
	char principal[VG_AUDIT_STR_MAX + 1];
	char action[VG_AUDIT_STR_MAX + 1];
	bool has_customer;
	unsigned char customer[VG_IDBYTES];
	char fields[VG_AUDIT_STR_MAX + 1];
	char purpose[VG_AUDIT_STR_MAX + 1];
	char case_id[VG_AUDIT_STR_MAX + 1];
	char decision[VG_AUDIT_STR_MAX + 1];
	char reason[VG_AUDIT_STR_MAX + 1];
	char request_id[VG_AUDIT_STR_MAX + 1];
	char client[VG_AUDIT_STR_MAX + 1];
	bool has_probe;
	unsigned char probe[VG_PROBEBYTES];
	char detail[VG_AUDIT_STR_MAX + 1];
	/* Where it is and what it hashes to. */
	unsigned char leaf[VG_HASHBYTES];	/* RFC 9162 leaf hash */
	unsigned char chain[VG_HASHBYTES];
	unsigned char mac[VG_HASHBYTES];
	uint64_t offset;			/* of the frame in its segment */
	char segment[64];			/* segment file name */
	size_t body_len;
	unsigned char body[VG_AUDIT_BODY_MAX];	/* the encoded entry */
};

struct vg_audit_opts {
	const char *vault_dir;		/* the log lives in vault_dir/audit */
	const char *chain;		/* chain name, e.g. "cli" */
	const char *origin;		/* checkpoint origin line */
	const unsigned char *sign_seed;	/* 32 bytes: Ed25519 key seed */
	uint64_t checkpoint_every;	/* entries between checkpoints (0: 100000) */
	uint32_t checkpoint_ms;		/* ms between checkpoints (0: 1000) */
	uint32_t batch_us;		/* group commit window (0: 200 µs) */
	uint64_t segment_bytes;		/* segment size cap (0: 64 MiB) */
	const char *const *witness_dirs;/* directories that receive every
					 * checkpoint (outside the vault) */
	size_t nwitness_dirs;
	/* Extra checkpoint sink (syslog, HTTP...), may be NULL.  Called
	 * from the writer thread with the signed note; its failure is
	 * reported on the next append but does not stop the log. */
	int (*sink)(void *ctx, const char *note, size_t len);
	void *sink_ctx;
	/* The time entries and checkpoints carry, unix ns; NULL: the
	 * real-time clock.  Only for a simulation whose world keeps its
	 * own time (vigild's `sim: {clock: true}`): whatever it returns,
	 * entries stay in non-decreasing time order. */
	int64_t (*clock)(void *ctx);
	void *clock_ctx;
};

struct vg_audit;

/*
 * How long the log's own fdatasync calls took (entry batches and
 * checkpoint records): every entry of a batch waits for its sync, so a
 * slow sync is a latency floor no faster CPU removes.  le[i] counts the
 * syncs that took at most vg_audit_sync_le_us[i] µs (the last bucket has
 * no bound); slow_ns is the time spent in syncs longer than 2 ms.
 */
#define VG_AUDIT_SYNC_BUCKETS 11
extern const uint32_t vg_audit_sync_le_us[VG_AUDIT_SYNC_BUCKETS - 1];
struct vg_audit_syncs {
	uint64_t count;
	uint64_t ns;			/* total */
	uint64_t slow_ns;		/* in syncs over 2 ms */
	uint64_t max_ns;
	uint64_t le[VG_AUDIT_SYNC_BUCKETS];	/* not cumulative */
};

/* Status of an open log. */
struct vg_audit_status {
	uint64_t size;			/* entries */
	uint64_t checkpoint_size;	/* entries covered by the last checkpoint */
	uint32_t mac_epoch;
	uint64_t torn_bytes;		/* cut from the tail at open */
	uint64_t witness_failures;	/* checkpoint deliveries that failed
					 * (directories and sink) */
	bool failed;			/* a write failed: every append fails
					 * until the log is reopened */
	struct vg_audit_syncs syncs;	/* since open */
	unsigned char root[VG_HASHBYTES];
	char vkey[VG_VKEY_MAX];		/* the chain's verifier key */
};

/*
 * Opens (creating on first use) the chain o->chain of the vault's audit
 * log, recovers a torn tail, and starts its writer thread.  On creation
 * the initial MAC key K_0 is written to
 * vault_dir/audit-offline/<chain>.mac0 (0600) for the operator to move
 * offline.  Returns 0, VG_EBUSY (another process writes this chain),
 * VG_EFORMAT (a damaged log: run vigil audit verify), VG_EIO; err gets
 * a one-line reason.
 */
VG_MUST_CHECK int vg_audit_open(const struct vg_audit_opts *o,
    struct vg_audit **out, char *err, size_t errcap);

/*
 * Appends e and returns once it is durable: on disk and fsynced,
 * together with the other entries of its group commit.  *seq (may be
 * NULL) receives its sequence number.  Thread-safe.  Returns 0, VG_EINVAL
 * (a malformed entry: nothing written), or VG_EIO: the log could not
 * write, and every later append fails too (fail closed) until reopened.
 */
VG_MUST_CHECK int vg_audit_append(struct vg_audit *a,
    const struct vg_audit_entry *e, uint64_t *seq);

/*
 * Appends n entries (e[0..n), at most 16384) in one group commit and
 * returns once all are durable; seqs (may be NULL) receives their
 * sequence numbers, consecutive in log order except for refused entries.
 * For a request that touches several customers, an import or an export.
 * Returns 0, the first entry's VG_EINVAL (that entry has no sequence
 * number; the others are written), or VG_EIO as vg_audit_append().
 */
VG_MUST_CHECK int vg_audit_append_many(struct vg_audit *a,
    const struct vg_audit_entry *e, size_t n, uint64_t *seqs);

/*
 * Asynchronous appends, for event-driven servers: queues e[0..n) and
 * returns at once; done(ctx, rc, first_seq) is called from the log's
 * writer thread once all n are durable (rc 0) or have failed (VG_EIO, or
 * the first entry's VG_EINVAL), with the lowest sequence number written
 * (UINT64_MAX if none).  e and everything it points to must stay valid
 * until then.  The callback must be quick and must not call back into
 * the log (hand the result to the server's loop).  Returns 0, or an error
 * without calling done.
 */
typedef void (*vg_audit_done_fn)(void *ctx, int rc, uint64_t first_seq);
VG_MUST_CHECK int vg_audit_submit(struct vg_audit *a,
    const struct vg_audit_entry *e, size_t n, vg_audit_done_fn done,
    void *ctx);

/* Signs a checkpoint now if entries were added since the last one. */
VG_MUST_CHECK int vg_audit_checkpoint(struct vg_audit *a);

void vg_audit_status(struct vg_audit *a, struct vg_audit_status *st);

/* Flushes, signs a final checkpoint, stops the writer, frees a.  Returns
 * 0 or the first write error.  NULL is a no-op.  No other call on a may
 * run or start during or after close: stop the callers first. */
int vg_audit_close(struct vg_audit *a);

/*-----------------------------------------------------------------------------
 * Reading: sequential access to a chain, no keys needed.
 */

struct vg_audit_reader;

/* Opens chain dir (vault_dir/audit/<chain>) for reading. */
VG_MUST_CHECK int vg_audit_reader_open(const char *chain_dir,
    struct vg_audit_reader **out);
/* Reads the next entry: 1, 0 at the end, or VG_EFORMAT (framing, chain
 * or sequence broken; vg_audit_reader_error() says where and what). */
VG_MUST_CHECK int vg_audit_reader_next(struct vg_audit_reader *r,
    struct vg_audit_record *rec);
const char *vg_audit_reader_error(const struct vg_audit_reader *r,
    uint64_t *seq, uint64_t *offset, const char **segment);
void vg_audit_reader_close(struct vg_audit_reader *r);

/*
 * For a chain that is being written (vigild's detector): reads the next
 * entry only if its sequence number is below `durable` (from
 * vg_audit_status of the writer), picking up segments created since
 * the reader opened.  Returns 1, 0 (nothing durable left to read: call
 * again later) or VG_EFORMAT as vg_audit_reader_next.
 */
VG_MUST_CHECK int vg_audit_reader_follow(struct vg_audit_reader *r,
    struct vg_audit_record *rec, uint64_t durable);

/*
 * For a chain another process writes (vigild watching the command
 * line's chain): the next entry that is whole on disk, 1; 0 when there
 * is none yet (a frame still being written is read again next time);
 * new segments are picked up.  VG_EFORMAT as vg_audit_reader_next.
 */
VG_MUST_CHECK int vg_audit_reader_tail(struct vg_audit_reader *r,
    struct vg_audit_record *rec);

/*
 * Several chains read as one log: entries oldest first, ties broken by
 * chain name, each chain in its own order.  want (may be NULL: every
 * chain) picks the chains of audit_dir (vault/audit) to read.
 */
#define VG_AUDIT_MERGE_MAX 1024		/* chains */
struct vg_audit_merge;
VG_MUST_CHECK int vg_audit_merge_open(const char *audit_dir,
    int (*want)(void *ctx, const char *chain), void *ctx,
    struct vg_audit_merge **out, char *err, size_t errcap);
/* Sets *rec to the next entry (valid until the next call) and returns
 * 1; 0 at the end; VG_EFORMAT (vg_audit_merge_error says which chain,
 * where and what). */
VG_MUST_CHECK int vg_audit_merge_next(struct vg_audit_merge *m,
    const struct vg_audit_record **rec);
const char *vg_audit_merge_error(const struct vg_audit_merge *m);
void vg_audit_merge_close(struct vg_audit_merge *m);

/*-----------------------------------------------------------------------------
 * Verification: everything a holder of a checkpoint can check.
 */

struct vg_audit_verify_opts {
	const char *chain_dir;			/* vault/audit/<chain> */
	const struct vg_note_key *key;		/* trusted key; NULL: key.pub */
	const unsigned char *mac0;		/* K_0, or NULL: MACs unchecked */
	const char *const *witness;		/* checkpoint files or dirs */
	size_t nwitness;
};

struct vg_audit_verify_result {
	int ok;				/* 1 when everything holds */
	uint64_t entries;
	uint64_t checkpoints;		/* the chain's own, verified */
	uint64_t witness_checkpoints;	/* witnesses' checkpoints checked */
	int macs_checked;
	int key_pinned;			/* a trusted key was given */
	uint64_t torn_bytes;		/* an unacknowledged torn tail */
	int torn_checkpoint;		/* checkpoints.log ends in a torn
					 * record (likewise unacknowledged) */
	unsigned char root[VG_HASHBYTES];
	/* The first problem, when !ok. */
	char what[32];			/* modified, deleted, inserted,
					 * reordered, truncated, forged,
					 * bad signature, inconsistent with
					 * witness, malformed */
	uint64_t seq;			/* first bad entry (or range start) */
	uint64_t seq_end;		/* range end when only a range is known */
	uint64_t offset;
	char segment[64];
	char detail[256];
};

/* Verifies one chain.  Returns 0 when it could run (then res->ok tells)
 * or a VG_E* code when it could not (no such chain, no memory). */
VG_MUST_CHECK int vg_audit_verify(const struct vg_audit_verify_opts *o,
    struct vg_audit_verify_result *res);

/* Reads a chain's checkpoints.log: calls fn for each note.  Returns 0,
 * VG_AUDIT_TORN when the last record is cut short (a crash; the writer
 * cuts it at the next open), VG_EFORMAT for a malformed file, or fn's
 * non-zero result. */
#define VG_AUDIT_TORN 1
int vg_audit_each_checkpoint(const char *path,
    int (*fn)(void *ctx, const char *note, size_t len), void *ctx);

/*-----------------------------------------------------------------------------
 * Inclusion proofs: entry seq is in the tree signed by the latest
 * checkpoint.  A proof is self-contained: the signed checkpoint, the
 * encoded entry and the audit path.
 */
struct vg_audit_proof {
	uint64_t seq;
	uint64_t size;				/* the checkpoint's tree size */
	char note[VG_NOTE_MAX];			/* the signed checkpoint */
	size_t notelen;
	unsigned char body[VG_AUDIT_BODY_MAX];	/* the encoded entry */
	size_t body_len;
	unsigned char leaf[VG_HASHBYTES];
	unsigned char path[VG_MERKLE_MAX_PROOF][VG_HASHBYTES];
	size_t npath;
};

/* Builds and checks the proof of entry seq of the chain in chain_dir.
 * Returns 0, VG_ENOTFOUND (no such entry or not yet checkpointed) or
 * another error, with *why. */
VG_MUST_CHECK int vg_audit_prove(const char *chain_dir, uint64_t seq,
    struct vg_audit_proof *p, const char **why);

/* Checks a proof with nothing but the chain's verifier key; on success
 * rec holds the decoded entry.  Returns 0 or VG_ECRYPTO / VG_EFORMAT with
 * *why. */
VG_MUST_CHECK int vg_audit_check_proof(const struct vg_audit_proof *p,
    const struct vg_note_key *key, struct vg_audit_record *rec,
    const char **why);

/* The proof as the JSON document `vigil audit prove` writes and
 * `vigil audit check-proof` reads (format "vigil-audit-proof-1"); the
 * caller frees it.  NULL when out of memory. */
char *vg_audit_proof_json(const struct vg_audit_proof *p, const char *chain);

/* Encodes/decodes one entry body (exposed for tests and fuzzing). */
int vg_audit_encode(const struct vg_audit_entry *e, uint64_t seq,
    int64_t time_ns, const char *node, unsigned char *out, size_t cap,
    size_t *len);
VG_MUST_CHECK int vg_audit_decode(const unsigned char *body, size_t len,
    struct vg_audit_record *rec, const char **why);

/* K_{e+1} from K_e, and the MAC of one frame. */
void vg_audit_mac_evolve(unsigned char key[VG_KEYBYTES]);
void vg_audit_frame_mac(unsigned char out[VG_HASHBYTES],
    const unsigned char key[VG_KEYBYTES], uint32_t epoch, uint64_t seq,
    const unsigned char chain[VG_HASHBYTES]);

#endif
