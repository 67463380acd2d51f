/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The audit log writer: chain creation, recovery of a torn tail, group
 * commit on a writer thread, the forward-secure MAC key, Merkle tree
 * levels, signed checkpoints and witness sinks.  Formats are in
 * audit_codec.c, reading in audit_read.c, the contract in
 * include/vigil/audit.h, the reasoning in docs/internals/audit.md.
 *
 * Files of a chain (vault/audit/<chain>/):
 *   LOCK              flock'd by the one writing process
 *   seg-<seq>.log     segments of frames, append-only
 *   mac.state         the current MAC epoch and key, two slots
 *   key.pub           the chain's verifier key (C2SP vkey)
 *   checkpoints.log   every signed checkpoint, "note <len>\n<note>"
 *   checkpoint        the latest signed checkpoint
 *   tree/L<k>.dat     hashes of complete subtrees at level k (a cache
 *                     rebuilt from the segments whenever it disagrees)
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/futex.h>
#include <sys/syscall.h>
#endif

#include <sodium.h>

#include "vigil/audit.h"
#include "audit_int.h"
#include "fileio.h"

#define QUEUE_CAP 16384		/* appenders wait beyond this */
#define CHUNK 1024		/* frames encoded per write() */
#define LEVELS 64
#define STATE_SLOT 64

/* One waiting append, on its appender's stack.  It belongs to batch
 * `gen`; the appender returns once done_gen has passed gen. */
struct ticket;

struct pending {
	const struct vg_audit_entry *e;
	uint64_t seq;
	int rc;
	uint32_t gen;
	struct ticket *t;	/* an asynchronous submission, or NULL */
};

/* An asynchronous submission: its pendings, queued together, so they are
 * in one batch and the last one completes it. */
struct ticket {
	vg_audit_done_fn done;
	void *ctx;
	size_t n;
	struct ticket *next;	/* completion list of one batch */
	struct pending p[];
};

struct secrets {
	unsigned char sk[crypto_sign_SECRETKEYBYTES];
	unsigned char mac[VG_KEYBYTES];
};

struct vg_audit {
	char dir[PATH_MAX];		/* vault/audit/<chain> */
	char chain[VG_CHAIN_NAME_MAX + 1];
	char origin[VG_NOTE_NAME_MAX + 1];
	int lockfd, segfd, statefd;
	char segname[64];
	uint64_t segsize, segcap;
	uint64_t size;			/* entries = next seq */
	unsigned char last_chain[VG_HASHBYTES];
	int64_t last_time;
	struct vg_merkle_range range;
	struct secrets *sec;		/* sodium_malloc'd */
	uint32_t mac_epoch;		/* checkpoints so far + 1 (recorded) */
	uint64_t state_seq;		/* the position mac.state held at open;
					 * afterwards sec->mac is always the
					 * key of position size */
	struct vg_note_key key;
	FILE *level[LEVELS];
	uint64_t cp_size;
	struct timespec cp_time;
	uint64_t cp_every;
	uint32_t cp_ms, batch_us;
	char **witness;
	size_t nwitness;
	int (*sink)(void *, const char *, size_t);
	void *sink_ctx;
	int64_t (*clock)(void *);
	void *clock_ctx;
	int sink_error;
	uint64_t torn_bytes;
	/* Group commit. */
	pthread_mutex_t mu;
	pthread_cond_t cv_writer;	/* the writer waits here */
	pthread_cond_t cv_space;	/* appenders wait for queue room */
	struct pending **q, **spare;
	size_t qn;
	uint32_t fill_gen;		/* batch now being queued */
	_Atomic uint32_t done_gen;	/* batches finished */
	pthread_cond_t cv_done;		/* fallback where there is no futex */
	struct timespec first_arrival;
	size_t last_batch;
	/* What vg_audit_status() reports, published under mu by the writer
	 * after each batch (the writer changes the live fields unlocked). */
	uint64_t pub_size, pub_cp_size;
	uint32_t pub_epoch;
	int pub_sink_error;
	struct vg_audit_syncs syncs, pub_syncs;
	unsigned char pub_root[VG_HASHBYTES];
	int stop, failed, started;
	uint64_t cp_asked, cp_served;	/* vg_audit_checkpoint requests */
	int cp_want;			/* the writer's snapshot of them */
	pthread_t thr;
	unsigned char *wbuf;
};


static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

const uint32_t vg_audit_sync_le_us[VG_AUDIT_SYNC_BUCKETS - 1] = {
	100, 250, 500, 1000, 2000, 5000, 10000, 25000, 100000, 1000000,
};

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* fdatasync, timed into a->syncs (writer thread only). */
static int
timed_datasync(struct vg_audit *a, int fd)
{
	uint64_t t0 = mono_ns(), d;
	int rc = fdatasync(fd);
	size_t b = 0;

	d = mono_ns() - t0;
	while (b < VG_AUDIT_SYNC_BUCKETS - 1 &&
	    d > (uint64_t)vg_audit_sync_le_us[b] * 1000u)
		b++;
	a->syncs.le[b]++;
	a->syncs.count++;
	a->syncs.ns += d;
	if (d > 2000000u)
		a->syncs.slow_ns += d;
	if (d > a->syncs.max_ns)
		a->syncs.max_ns = d;
	return rc;
}

/* The time an entry is stamped with: the real clock, or a simulation's. */
static int64_t
entry_ns(const struct vg_audit *a)
{
	return a->clock != NULL ? a->clock(a->clock_ctx) : now_ns();
}

static double
elapsed_ms(const struct timespec *since)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)(ts.tv_sec - since->tv_sec) * 1e3 +
	    (double)(ts.tv_nsec - since->tv_nsec) / 1e6;
}


static int
path_in(char *out, size_t cap, const char *dir, const char *name)
{
	return (size_t)snprintf(out, cap, "%s/%s", dir, name) < cap ? 0 :
	    VG_ETOOBIG;
}

/*-----------------------------------------------------------------------------
 * The MAC key state: two slots, so a crash while evolving never loses the
 * key, and both end holding the new key, so the old one is overwritten.
 */

static void
state_slot(unsigned char slot[STATE_SLOT], uint64_t seq,
    const unsigned char key[VG_KEYBYTES])
{
	memset(slot, 0, STATE_SLOT);
	memcpy(slot, "VGMK", 4);
	vg__put64(slot + 4, seq);
	memcpy(slot + 12, key, VG_KEYBYTES);
	crypto_generichash(slot + 44, 16, slot, 44, NULL, 0);
}

/* Records that key is the MAC key of position seq, overwriting (and so
 * erasing) the key of an earlier position. */
static int
state_write(struct vg_audit *a, uint64_t seq,
    const unsigned char key[VG_KEYBYTES])
{
	unsigned char slot[STATE_SLOT];
	int rc = 0, i;

	state_slot(slot, seq, key);
	for (i = 0; i < 2 && rc == 0; i++) {
		if (pwrite(a->statefd, slot, STATE_SLOT,
		    (off_t)(i * STATE_SLOT)) != STATE_SLOT ||
		    fdatasync(a->statefd) != 0)
			rc = VG_EIO;
	}
	sodium_memzero(slot, sizeof(slot));
	return rc;
}

static int
state_read(struct vg_audit *a)
{
	unsigned char buf[2 * STATE_SLOT], tag[16];
	uint64_t best = 0;
	int i, found = 0;

	if (pread(a->statefd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf))
		return VG_EFORMAT;
	for (i = 0; i < 2; i++) {
		unsigned char *sl = buf + i * STATE_SLOT;
		uint64_t q;

		crypto_generichash(tag, sizeof(tag), sl, 44, NULL, 0);
		if (memcmp(sl, "VGMK", 4) != 0 ||
		    sodium_memcmp(tag, sl + 44, 16) != 0)
			continue;
		q = vg__get64(sl + 4);
		if (!found || q > best) {
			best = q;
			memcpy(a->sec->mac, sl + 12, VG_KEYBYTES);
			found = 1;
		}
	}
	sodium_memzero(buf, sizeof(buf));
	if (!found)
		return VG_EFORMAT;
	a->state_seq = best;
	return 0;
}

/*-----------------------------------------------------------------------------
 * Tree levels
 */

static int
level_open(struct vg_audit *a, unsigned k, const char *mode)
{
	char path[PATH_MAX + 32], name[32];

	snprintf(name, sizeof(name), "tree/L%02u.dat", k);
	if (path_in(path, sizeof(path), a->dir, name) != 0)
		return VG_ETOOBIG;
	a->level[k] = fopen(path, mode);
	return a->level[k] != NULL ? 0 : VG_EIO;
}

static int
level_done(void *ctx, unsigned level, uint64_t index,
    const unsigned char hash[VG_HASHBYTES])
{
	struct vg_audit *a = ctx;

	(void)index;
	if (level >= LEVELS)
		return VG_EINVAL;
	if (a->level[level] == NULL && level_open(a, level, "ab") != 0)
		return VG_EIO;
	return fwrite(hash, VG_HASHBYTES, 1, a->level[level]) == 1 ? 0 :
	    VG_EIO;
}

static int
levels_flush(struct vg_audit *a)
{
	int k, rc = 0;

	for (k = 0; k < LEVELS; k++)
		if (a->level[k] != NULL && fflush(a->level[k]) != 0)
			rc = VG_EIO;
	return rc;
}

/* True when every level file holds exactly the complete subtrees of a
 * tree of a->size leaves. */
static int
levels_consistent(struct vg_audit *a)
{
	char path[PATH_MAX + 32], name[32];
	struct stat sb;
	unsigned k;

	for (k = 0; k < LEVELS; k++) {
		uint64_t want = (a->size >> k) * VG_HASHBYTES;

		snprintf(name, sizeof(name), "tree/L%02u.dat", k);
		if (path_in(path, sizeof(path), a->dir, name) != 0)
			return 0;
		if (stat(path, &sb) != 0) {
			if (want != 0)
				return 0;
			continue;
		}
		if ((uint64_t)sb.st_size != want)
			return 0;
	}
	return 1;
}

/* Rebuilds every level file from the segments. */
static int
levels_rebuild(struct vg_audit *a)
{
	struct vg_audit_reader *r;
	struct vg_audit_record *rec;
	struct vg_merkle_range range;
	unsigned k;
	int rc;

	for (k = 0; k < LEVELS; k++) {
		if (a->level[k] != NULL)
			fclose(a->level[k]);
		a->level[k] = NULL;
		if (level_open(a, k, "wb") != 0)
			return VG_EIO;
	}
	rec = malloc(sizeof(*rec));
	if (rec == NULL)
		return VG_ENOMEM;
	vg_merkle_range_init(&range);
	rc = vg_audit_reader_open(a->dir, &r);
	while (rc == 0 && range.size < a->size) {
		rc = vg_audit_reader_next(r, rec);
		if (rc == 1)
			rc = vg_merkle_range_append(&range, rec->leaf,
			    level_done, a);
		else if (rc == 0)
			rc = VG_EFORMAT;	/* fewer entries than counted */
	}
	vg_audit_reader_close(r);
	free(rec);
	if (rc == 0)
		rc = levels_flush(a);
	for (k = 0; k < LEVELS; k++) {
		fclose(a->level[k]);
		a->level[k] = NULL;
	}
	return rc;
}

/*-----------------------------------------------------------------------------
 * Segments
 */

static int
segment_new(struct vg_audit *a)
{
	unsigned char head[VG_SEG_HEADER_MAX];
	char path[PATH_MAX + 64];
	size_t hlen;
	int fd;

	if (a->segfd >= 0) {
		if (fdatasync(a->segfd) != 0)
			return VG_EIO;
		close(a->segfd);
		a->segfd = -1;
	}
	snprintf(a->segname, sizeof(a->segname), "seg-%016llx.log",
	    (unsigned long long)a->size);
	if (path_in(path, sizeof(path), a->dir, a->segname) != 0)
		return VG_ETOOBIG;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC,
	    0600);
	if (fd < 0)
		return VG_EIO;
	hlen = vg__audit_seg_header(head, a->size, a->last_chain, a->chain);
	if (vg__write_all(fd, head, hlen) != 0 || fdatasync(fd) != 0 ||
	    vg__dir_sync(a->dir) != 0) {
		close(fd);
		unlink(path);
		return VG_EIO;
	}
	a->segfd = fd;
	a->segsize = hlen;
	return 0;
}

/*-----------------------------------------------------------------------------
 * Checkpoints
 */

/* Replaces dir/name with data: a temporary file, fsync, rename, then
 * the directory's fsync.  With durable 0, no fsync at all: for a file
 * that is only a cache of durable data (the "checkpoint" file, rebuilt
 * from checkpoints.log at open).  Each directory fsync is a journal
 * commit, which on ext4 (data=ordered) also waits for every dirty file
 * of the filesystem: measured under vigild with its request log on the
 * same disk, that stalled group commits for up to 300 ms once a second. */
static int
replace_file_opt(const char *dir, const char *name, const void *data,
    size_t len, mode_t mode, int durable)
{
	char path[PATH_MAX + 80], tmp[PATH_MAX + 96];
	int fd, rc;

	if (path_in(path, sizeof(path), dir, name) != 0)
		return VG_ETOOBIG;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
	    mode);
	if (fd < 0)
		return VG_EIO;
	rc = vg__write_all(fd, data, len);
	if (rc == 0 && fchmod(fd, mode) != 0)
		rc = VG_EIO;
	if (rc == 0 && durable && fsync(fd) != 0)
		rc = VG_EIO;
	close(fd);
	if (rc == 0 && rename(tmp, path) != 0)
		rc = VG_EIO;
	if (rc != 0)
		unlink(tmp);
	else if (durable)
		rc = vg__dir_sync(dir);
	return rc;
}

static int
replace_file(const char *dir, const char *name, const void *data, size_t len,
    mode_t mode)
{
	return replace_file_opt(dir, name, data, len, mode, 1);
}

/* Signs a checkpoint of the current tree, stores and publishes it, then
 * evolves the MAC key.  Called by the writer thread only. */
static int
checkpoint_now(struct vg_audit *a)
{
	struct vg_checkpoint c;
	char text[1024], note[VG_NOTE_MAX], head[32 + VG_NOTE_MAX];
	char name[VG_NOTE_NAME_MAX + 32], path[PATH_MAX + 32];
	size_t tlen, nlen, i;
	off_t end;
	int fd, rc, hl;

	memset(&c, 0, sizeof(c));
	snprintf(c.origin, sizeof(c.origin), "%s", a->origin);
	c.size = a->size;
	vg_merkle_range_root(&a->range, c.root);
	c.next = 1;
	snprintf(c.ext[0], sizeof(c.ext[0]), "time %lld",
	    (long long)(a->last_time > entry_ns(a) ? a->last_time :
	    entry_ns(a)));
	rc = vg_checkpoint_format(&c, text, sizeof(text), &tlen);
	if (rc == 0)
		rc = vg_note_sign(text, tlen, a->origin, a->sec->sk, note,
		    sizeof(note), &nlen);
	if (rc != 0)
		return rc;

	/* The permanent record first, then the "latest" file. */
	if (path_in(path, sizeof(path), a->dir, "checkpoints.log") != 0)
		return VG_ETOOBIG;
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return VG_EIO;
	/* One write, so that a killed process never leaves a record cut
	 * between its header and its note; a failed one is cut off. */
	hl = snprintf(head, sizeof(head), "note %zu\n", nlen);
	memcpy(head + hl, note, nlen);
	end = lseek(fd, 0, SEEK_END);
	rc = end < 0 ? VG_EIO : vg__write_all(fd, head, (size_t)hl + nlen);
	if (rc == 0 && timed_datasync(a, fd) != 0)
		rc = VG_EIO;
	if (rc != 0 && end >= 0 && ftruncate(fd, end) == 0)
		(void)fdatasync(fd);
	close(fd);
	if (rc == 0)
		rc = replace_file_opt(a->dir, "checkpoint", note, nlen, 0600,
		    0);
	if (rc != 0)
		return rc;

	/* Witnesses outside the vault: a failure is reported, not fatal. */
	/* Named by origin (vault id and chain), so that many vaults can
	 * share one witness directory. */
	snprintf(name, sizeof(name), "%s-%016llx.cp", a->origin,
	    (unsigned long long)c.size);
	for (i = 0; name[i] != '\0'; i++)
		if (name[i] == '/')
			name[i] = '_';
	for (i = 0; i < a->nwitness; i++)
		if (replace_file(a->witness[i], name, note, nlen, 0644) != 0)
			a->sink_error++;
	if (a->sink != NULL && a->sink(a->sink_ctx, note, nlen) != 0)
		a->sink_error++;

	/* Forward security: the MAC key of entry i is K_{i+1}, evolved
	 * once per entry; the state now holds the key of the next position
	 * only, so the keys of every entry written are gone from disk. */
	rc = state_write(a, a->size, a->sec->mac);
	if (rc != 0)
		return rc;
	a->mac_epoch++;
	a->cp_size = a->size;
	clock_gettime(CLOCK_MONOTONIC, &a->cp_time);
	return 0;
}

static int
checkpoint_due(struct vg_audit *a)
{
	if (a->size == a->cp_size)
		return 0;
	return a->cp_want || a->stop ||
	    a->size - a->cp_size >= a->cp_every ||
	    elapsed_ms(&a->cp_time) >= (double)a->cp_ms;
}

/*-----------------------------------------------------------------------------
 * The writer thread
 */

/* Encodes, chains, MACs, writes and syncs one batch: frames are encoded
 * CHUNK at a time and written, then one fdatasync covers them all. */
static int
write_batch(struct vg_audit *a, struct pending **batch, size_t n)
{
	unsigned char (*leaves)[VG_HASHBYTES];
	uint64_t seq = a->size, old = a->segsize, written = 0;
	unsigned char chain[VG_HASHBYTES];
	size_t i, pos = 0, nleaves = 0;
	int64_t t = a->last_time;
	int rc = 0;

	leaves = malloc(n * VG_HASHBYTES);
	if (leaves == NULL)
		return VG_ENOMEM;
	memcpy(chain, a->last_chain, VG_HASHBYTES);
	for (i = 0; i < n && rc == 0; i++) {
		struct pending *p = batch[i];
		unsigned char *f = a->wbuf + pos;
		size_t blen;
		int64_t now = entry_ns(a);

		if (now > t)
			t = now;
		p->rc = vg_audit_encode(p->e, seq, t, a->chain,
		    f + VG_FRAME_HEAD, VG_AUDIT_BODY_MAX, &blen);
		if (p->rc == 0) {
			f[0] = 'V';
			f[1] = 'E';
			vg__put32(f + 2, (uint32_t)blen);
			vg__put32(f + 6, a->mac_epoch);
			vg_merkle_leaf_hash(leaves[nleaves], f + VG_FRAME_HEAD,
			    blen);
			vg__audit_chain(chain, chain, leaves[nleaves]);
			memcpy(f + VG_FRAME_HEAD + blen, chain, VG_HASHBYTES);
			vg_audit_frame_mac(f + VG_FRAME_HEAD + blen +
			    VG_HASHBYTES, a->sec->mac, a->mac_epoch, seq, chain);
			vg_audit_mac_evolve(a->sec->mac);	/* K_{seq+2} */
			pos += VG_FRAME_HEAD + blen + VG_FRAME_TAIL;
			p->seq = seq++;
			nleaves++;
		}
		/* A refused entry takes no sequence number. */
		if (pos > 0 && (pos + VG_FRAME_MAX > (size_t)CHUNK * 512 ||
		    i + 1 == n)) {
			rc = vg__write_all(a->segfd, a->wbuf, pos);
			written += pos;
			pos = 0;
		}
	}
	if (rc == 0 && written > 0 && timed_datasync(a, a->segfd) != 0)
		rc = VG_EIO;
	if (rc != 0) {
		/* Fail closed; the partial frames are a torn tail for the
		 * next open, but try to cut them now. */
		if (ftruncate(a->segfd, (off_t)old) == 0)
			(void)fdatasync(a->segfd);
	} else {
		for (i = 0; i < nleaves; i++) {
			if (vg_merkle_range_append(&a->range, leaves[i],
			    level_done, a) != 0)
				/* The level cache is behind: the range must
				 * not be, and the cache is rebuilt at open. */
				(void)vg_merkle_range_append(&a->range,
				    leaves[i], NULL, NULL);
		}
		(void)levels_flush(a);	/* a cache: rebuilt when wrong */
		a->size = seq;
		a->segsize = old + written;
		a->last_time = t;
		memcpy(a->last_chain, chain, VG_HASHBYTES);
	}
	free(leaves);
	return rc;
}

/*
 * The gate appenders wait at: done_gen counts finished batches.  On Linux
 * waiters sleep on it with a futex, so finishing a batch is one store and
 * one wake, and the woken appenders return without taking the mutex (no
 * convoy behind it); elsewhere a condition variable does the same job.
 */
static void
gate_wait(struct vg_audit *a, uint32_t gen)
{
	uint32_t d;

	for (;;) {
		d = atomic_load_explicit(&a->done_gen, memory_order_acquire);
		if ((int32_t)(d - gen) > 0)
			return;
#ifdef __linux__
		syscall(SYS_futex, &a->done_gen, FUTEX_WAIT_PRIVATE, d,
		    NULL, NULL, 0);
#else
		pthread_mutex_lock(&a->mu);
		if (atomic_load_explicit(&a->done_gen,
		    memory_order_acquire) == d)
			pthread_cond_wait(&a->cv_done, &a->mu);
		pthread_mutex_unlock(&a->mu);
#endif
	}
}

static void
gate_open(struct vg_audit *a, uint32_t gen)
{
	atomic_store_explicit(&a->done_gen, gen + 1, memory_order_release);
#ifdef __linux__
	syscall(SYS_futex, &a->done_gen, FUTEX_WAKE_PRIVATE, INT_MAX,
	    NULL, NULL, 0);
#else
	pthread_cond_broadcast(&a->cv_done);	/* the writer holds a->mu */
#endif
}

static void
add_us(struct timespec *ts, uint32_t us)
{
	ts->tv_nsec += (long)us * 1000;
	while (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

/* Calls each finished ticket's callback (outside the log's lock) and
 * frees it. */
static void
complete_tickets(struct ticket *t)
{
	while (t != NULL) {
		struct ticket *next = t->next;
		uint64_t first = UINT64_MAX;
		int rc = 0;
		size_t i;

		for (i = 0; i < t->n; i++) {
			if (t->p[i].rc != 0 && rc == 0)
				rc = t->p[i].rc;
			if (t->p[i].rc == 0 && t->p[i].seq < first)
				first = t->p[i].seq;
		}
		t->done(t->ctx, rc, first);
		free(t);
		t = next;
	}
}

static void *
writer_main(void *arg)
{
	struct vg_audit *a = arg;
	struct pending **batch;
	struct ticket *done_list, **done_tail;
	uint64_t asked;
	uint32_t gen;
	size_t n, i;
	int rc, stopping;

	pthread_mutex_lock(&a->mu);
	for (;;) {
		while (a->qn == 0 && !a->stop && a->cp_asked == a->cp_served) {
			if (a->size > a->cp_size) {
				struct timespec dl;

				clock_gettime(CLOCK_MONOTONIC, &dl);
				add_us(&dl, a->cp_ms * 1000u);
				if (pthread_cond_timedwait(&a->cv_writer,
				    &a->mu, &dl) == ETIMEDOUT)
					break;
			} else {
				pthread_cond_wait(&a->cv_writer, &a->mu);
			}
		}
		/* Under concurrency, wait a little for more to share the
		 * flush; a lone appender is never delayed. */
		if (a->qn > 0 && a->batch_us > 0 && a->last_batch > 1 &&
		    !a->stop) {
			struct timespec dl = a->first_arrival;

			add_us(&dl, a->batch_us);
			while (a->qn < QUEUE_CAP && !a->stop &&
			    pthread_cond_timedwait(&a->cv_writer, &a->mu,
			    &dl) != ETIMEDOUT)
				;
		}
		/* Take everything queued: one batch, one generation; and the
		 * checkpoint requests made so far. */
		asked = a->cp_asked;
		a->cp_want = asked != a->cp_served;
		n = a->qn;
		batch = a->q;
		a->q = a->spare;
		a->spare = batch;
		a->qn = 0;
		gen = a->fill_gen++;
		pthread_cond_broadcast(&a->cv_space);
		pthread_mutex_unlock(&a->mu);

		rc = a->failed;
		if (rc == 0 && n > 0) {
			if (a->segsize >= a->segcap)
				rc = segment_new(a);
			if (rc == 0)
				rc = write_batch(a, batch, n);
		}
		if (rc == 0 && checkpoint_due(a))
			rc = checkpoint_now(a);

		pthread_mutex_lock(&a->mu);
		if (rc != 0 && !a->failed)
			a->failed = VG_EIO;
		done_list = NULL;
		done_tail = &done_list;
		for (i = 0; i < n; i++) {
			struct pending *p = batch[i];

			if (a->failed && p->rc == 0)
				p->rc = VG_EIO;
			/* Collect finished tickets before the gate opens:
			 * after it, synchronous pendings may be gone. */
			if (p->t != NULL && p == &p->t->p[p->t->n - 1]) {
				p->t->next = NULL;
				*done_tail = p->t;	/* in log order */
				done_tail = &p->t->next;
			}
		}
		if (rc == 0)
			a->cp_served = asked;	/* later requests wait */
		if (n > 0)
			a->last_batch = n;
		a->pub_size = a->size;
		a->pub_cp_size = a->cp_size;
		a->pub_epoch = a->mac_epoch;
		a->pub_sink_error = a->sink_error;
		a->pub_syncs = a->syncs;
		vg_merkle_range_root(&a->range, a->pub_root);
		gate_open(a, gen);		/* releases the batch */
		pthread_cond_broadcast(&a->cv_writer);	/* checkpoint waiters */
		stopping = a->stop && a->qn == 0;
		pthread_mutex_unlock(&a->mu);
		complete_tickets(done_list);
		if (stopping)
			return NULL;
		pthread_mutex_lock(&a->mu);
	}
}

int
vg_audit_append_many(struct vg_audit *a, const struct vg_audit_entry *e,
    size_t n, uint64_t *seqs)
{
	struct pending one, *p = &one;
	uint32_t gen;
	size_t i;
	int rc = 0;

	if (n == 0)
		return 0;
	if (n > QUEUE_CAP)
		return VG_ETOOBIG;
	if (n > 1 && (p = calloc(n, sizeof(*p))) == NULL)
		return VG_ENOMEM;
	pthread_mutex_lock(&a->mu);
	while (a->qn + n > QUEUE_CAP && !a->failed && !a->stop)
		pthread_cond_wait(&a->cv_space, &a->mu);
	if (a->failed || a->stop) {
		rc = a->failed ? VG_EIO : VG_EINVAL;
		pthread_mutex_unlock(&a->mu);
		goto out;
	}
	if (a->qn == 0)
		clock_gettime(CLOCK_MONOTONIC, &a->first_arrival);
	gen = a->fill_gen;
	for (i = 0; i < n; i++) {
		p[i].e = &e[i];
		p[i].seq = 0;
		p[i].rc = 0;
		p[i].gen = gen;
		p[i].t = NULL;
		a->q[a->qn++] = &p[i];
	}
	/* Broadcast: checkpoint callers wait on the same condition. */
	if (a->qn == n || a->qn == QUEUE_CAP)
		pthread_cond_broadcast(&a->cv_writer);
	pthread_mutex_unlock(&a->mu);
	gate_wait(a, gen);
	for (i = 0; i < n; i++) {
		if (p[i].rc != 0 && rc == 0)
			rc = p[i].rc;
		if (seqs != NULL)
			seqs[i] = p[i].seq;
	}
out:
	if (p != &one)
		free(p);
	return rc;
}

int
vg_audit_submit(struct vg_audit *a, const struct vg_audit_entry *e, size_t n,
    vg_audit_done_fn done, void *ctx)
{
	struct ticket *t;
	size_t i;
	int rc;

	if (n == 0 || done == NULL)
		return VG_EINVAL;
	if (n > QUEUE_CAP)
		return VG_ETOOBIG;
	t = malloc(sizeof(*t) + n * sizeof(t->p[0]));
	if (t == NULL)
		return VG_ENOMEM;
	t->done = done;
	t->ctx = ctx;
	t->n = n;
	t->next = NULL;
	pthread_mutex_lock(&a->mu);
	while (a->qn + n > QUEUE_CAP && !a->failed && !a->stop)
		pthread_cond_wait(&a->cv_space, &a->mu);
	if (a->failed || a->stop) {
		rc = a->failed ? VG_EIO : VG_EINVAL;
		pthread_mutex_unlock(&a->mu);
		free(t);
		return rc;
	}
	if (a->qn == 0)
		clock_gettime(CLOCK_MONOTONIC, &a->first_arrival);
	for (i = 0; i < n; i++) {
		t->p[i].e = &e[i];
		t->p[i].seq = 0;
		t->p[i].rc = 0;
		t->p[i].gen = a->fill_gen;
		t->p[i].t = t;
		a->q[a->qn++] = &t->p[i];
	}
	if (a->qn == n || a->qn == QUEUE_CAP)
		pthread_cond_broadcast(&a->cv_writer);
	pthread_mutex_unlock(&a->mu);
	return 0;
}

int
vg_audit_append(struct vg_audit *a, const struct vg_audit_entry *e,
    uint64_t *seq)
{
	return vg_audit_append_many(a, e, 1, seq);
}

int
vg_audit_checkpoint(struct vg_audit *a)
{
	int rc;

	uint64_t mine;

	pthread_mutex_lock(&a->mu);
	mine = ++a->cp_asked;
	pthread_cond_broadcast(&a->cv_writer);
	while (a->cp_served < mine && !a->failed && !a->stop)
		pthread_cond_wait(&a->cv_writer, &a->mu);
	rc = a->failed ? VG_EIO : 0;
	pthread_mutex_unlock(&a->mu);
	return rc;
}

void
vg_audit_status(struct vg_audit *a, struct vg_audit_status *st)
{
	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&a->mu);
	st->size = a->pub_size;
	st->checkpoint_size = a->pub_cp_size;
	st->mac_epoch = a->pub_epoch;
	st->torn_bytes = a->torn_bytes;
	st->witness_failures = (uint64_t)a->pub_sink_error;
	st->failed = a->failed != 0;
	st->syncs = a->pub_syncs;
	memcpy(st->root, a->pub_root, VG_HASHBYTES);
	pthread_mutex_unlock(&a->mu);
	vg_note_vkey_format(&a->key, st->vkey, sizeof(st->vkey));
}

/*-----------------------------------------------------------------------------
 * Open and close
 */

static void
audit_free(struct vg_audit *a)
{
	size_t i;
	int k;

	if (a == NULL)
		return;
	for (k = 0; k < LEVELS; k++)
		if (a->level[k] != NULL)
			fclose(a->level[k]);
	if (a->segfd >= 0)
		close(a->segfd);
	if (a->statefd >= 0)
		close(a->statefd);
	if (a->lockfd >= 0)
		close(a->lockfd);	/* releases the flock */
	if (a->sec != NULL)
		sodium_free(a->sec);
	for (i = 0; i < a->nwitness; i++)
		free(a->witness[i]);
	free(a->witness);
	free(a->q);
	free(a->spare);
	free(a->wbuf);
	pthread_mutex_destroy(&a->mu);
	pthread_cond_destroy(&a->cv_writer);
	pthread_cond_destroy(&a->cv_space);
	pthread_cond_destroy(&a->cv_done);
	free(a);
}

static int
mkdir_p(const char *path)
{
	if (mkdir(path, 0700) == 0 || errno == EEXIST)
		return 0;
	return VG_EIO;
}

/*
 * First use of a chain: K_0 for offline keeping, the verifier key, then
 * the MAC state K_1.  Each file is written whole and renamed into place,
 * and mac.state comes last: a chain without it has never logged, so a
 * crash at any point here is repaired by creating it again.
 */
static int
chain_create(struct vg_audit *a, const char *vault_dir, char *err,
    size_t errcap)
{
	char off[PATH_MAX + 32], name[VG_CHAIN_NAME_MAX + 8];
	char vkey[VG_VKEY_MAX + 2], b64[64], text[256];
	unsigned char slot[2 * STATE_SLOT];
	unsigned char *k0;
	int rc, n;

	if (path_in(off, sizeof(off), vault_dir, "audit-offline") != 0)
		return VG_ETOOBIG;
	if (mkdir_p(off) != 0) {
		vg__seterr(err, errcap, "cannot create '%s'", off);
		return VG_EIO;
	}
	k0 = vg_secret_new(VG_KEYBYTES);
	if (k0 == NULL)
		return VG_ENOMEM;
	randombytes_buf(k0, VG_KEYBYTES);
	vg_b64_encode_key(b64, sizeof(b64), k0);
	n = snprintf(text, sizeof(text), "# vigil audit chain '%s': initial "
	    "MAC key K0.\n# Move this file off the server; keep it to "
	    "verify MACs (vigil audit verify --mac-key).\n%s\n", a->chain,
	    b64);
	sodium_memzero(b64, sizeof(b64));
	snprintf(name, sizeof(name), "%s.mac0", a->chain);
	rc = replace_file(off, name, text, (size_t)n, 0600);
	sodium_memzero(text, sizeof(text));
	if (rc != 0) {
		vg_secret_free(k0);
		vg__seterr(err, errcap, "cannot write '%s/%s'", off, name);
		return rc;
	}
	if (vg_note_vkey_format(&a->key, vkey, sizeof(vkey) - 1) != 0) {
		vg_secret_free(k0);
		return VG_EINVAL;
	}
	strncat(vkey, "\n", sizeof(vkey) - strlen(vkey) - 1);
	rc = replace_file(a->dir, "key.pub", vkey, strlen(vkey), 0600);
	if (rc != 0) {
		vg_secret_free(k0);
		vg__seterr(err, errcap, "cannot write '%s/key.pub'", a->dir);
		return rc;
	}
	vg_audit_mac_evolve(k0);	/* K_1: the node never keeps K_0 */
	state_slot(slot, 0, k0);		/* K_1 is entry 0's key */
	state_slot(slot + STATE_SLOT, 0, k0);
	vg_secret_free(k0);
	rc = replace_file(a->dir, "mac.state", slot, sizeof(slot), 0600);
	sodium_memzero(slot, sizeof(slot));
	if (rc != 0)
		vg__seterr(err, errcap, "cannot write the MAC key state");
	return rc;
}

/*
 * Reads checkpoints.log: counts its records (each ends a MAC epoch) and
 * takes the last one as the latest checkpoint, rewriting the "checkpoint"
 * file if a crash left it behind.  A record torn by a crash (header or
 * note incomplete: never acknowledged, the key not evolved for it) is cut.
 */
static int
load_checkpoints(struct vg_audit *a, uint64_t *count)
{
	char path[PATH_MAX + 32], head[32], *note, *last;
	struct vg_checkpoint c;
	const char *why;
	uint64_t good = 0;
	size_t lastlen = 0, tlen;
	struct stat sb;
	FILE *fp;
	int rc = 0;

	*count = 0;
	a->cp_size = 0;
	if (path_in(path, sizeof(path), a->dir, "checkpoints.log") != 0)
		return VG_ETOOBIG;
	fp = fopen(path, "rb");
	if (fp == NULL)
		return errno == ENOENT ? 0 : VG_EIO;
	note = malloc(VG_NOTE_MAX);
	last = malloc(VG_NOTE_MAX);
	if (note == NULL || last == NULL || fstat(fileno(fp), &sb) != 0) {
		rc = note == NULL || last == NULL ? VG_ENOMEM : VG_EIO;
		goto out;
	}
	for (;;) {
		unsigned long len = 0;
		char *end = head;
		size_t hl;

		if (fgets(head, sizeof(head), fp) == NULL)
			break;
		hl = strlen(head);
		if (strncmp(head, "note ", 5) == 0) {
			errno = 0;
			len = strtoul(head + 5, &end, 10);
		}
		if (hl == 0 || head[hl - 1] != '\n' || *end != '\n' ||
		    errno != 0 || len == 0 || len > VG_NOTE_MAX ||
		    fread(note, 1, len, fp) != len) {
			rc = VG_EFORMAT;
			break;
		}
		memcpy(last, note, len);
		lastlen = len;
		good = (uint64_t)ftell(fp);
		(*count)++;
	}
	if (rc == VG_EFORMAT) {
		/* Cut only a tail a crash can leave: a record whose header
		 * or note runs to the end of the file (or zeros).  A bad
		 * record with the file going on past it is damage: refuse,
		 * and change nothing. */
		uint64_t rest = (uint64_t)sb.st_size - good;
		int tail = 0, ch;

		if (fseek(fp, (long)good, SEEK_SET) == 0) {
			char h2[32];
			unsigned long l2;
			char *e2;

			if (fgets(h2, sizeof(h2), fp) == NULL ||
			    h2[strlen(h2) - 1] != '\n') {
				tail = 1;	/* the header itself is cut */
			} else if (strncmp(h2, "note ", 5) == 0) {
				l2 = strtoul(h2 + 5, &e2, 10);
				tail = *e2 == '\n' && l2 > 0 &&
				    l2 <= VG_NOTE_MAX &&
				    rest < strlen(h2) + l2;
			}
			if (!tail && fseek(fp, (long)good, SEEK_SET) == 0) {
				tail = 1;
				while ((ch = fgetc(fp)) != EOF)
					if (ch != 0)
						tail = 0;
			}
		}
		if (!tail) {
			rc = VG_EFORMAT;
			goto out;
		}
		if (truncate(path, (off_t)good) != 0 ||
		    vg__dir_sync(a->dir) != 0) {
			rc = VG_EIO;
			goto out;
		}
		rc = 0;
	}
	if (*count > 0) {
		if (vg_note_verify(last, lastlen, &a->key, &tlen, &why) != 0 ||
		    vg_checkpoint_parse(&c, last, tlen, &why) != 0) {
			rc = VG_EFORMAT;
			goto out;
		}
		a->cp_size = c.size;
		if (path_in(path, sizeof(path), a->dir, "checkpoint") != 0) {
			rc = VG_ETOOBIG;
			goto out;
		}
		fclose(fp);
		fp = fopen(path, "rb");
		if (fp == NULL || fread(note, 1, VG_NOTE_MAX, fp) != lastlen ||
		    memcmp(note, last, lastlen) != 0)
			rc = replace_file(a->dir, "checkpoint", last, lastlen,
			    0600);
	}
out:
	if (fp != NULL)
		fclose(fp);
	free(note);
	free(last);
	return rc;
}

/* Scans the chain, cuts a torn tail, and loads size, chain and tree. */
static int
recover(struct vg_audit *a, char *err, size_t errcap)
{
	struct vg_audit_reader *r;
	struct vg_audit_reader_state st;
	struct vg_audit_record *rec;
	char path[PATH_MAX + 64];
	const char *why, *seg;
	uint64_t eseq, eoff, ncp, pos;
	int rc;

	rec = malloc(sizeof(*rec));
	if (rec == NULL)
		return VG_ENOMEM;
	rc = vg_audit_reader_open(a->dir, &r);
	if (rc != 0) {
		free(rec);
		return rc;
	}
	vg_merkle_range_init(&a->range);
	while ((rc = vg_audit_reader_next(r, rec)) == 1)
		(void)vg_merkle_range_append(&a->range, rec->leaf, NULL, NULL);
	free(rec);
	if (rc != 0) {
		why = vg_audit_reader_error(r, &eseq, &eoff, &seg);
		vg__seterr(err, errcap, "audit chain '%s' is damaged at %s offset "
		    "%llu: %s; run 'vigil audit verify'", a->chain, seg,
		    (unsigned long long)eoff, why);
		vg_audit_reader_close(r);
		return VG_EFORMAT;
	}
	vg__audit_reader_state(r, &st);
	vg_audit_reader_close(r);
	a->size = st.next_seq;
	memcpy(a->last_chain, st.last_chain, VG_HASHBYTES);
	a->last_time = st.last_time;

	/* Each checkpoint ends a MAC epoch.  A crash after a checkpoint was
	 * recorded but before the key was evolved leaves the state one
	 * behind: evolve it now (forward only). */
	rc = load_checkpoints(a, &ncp);
	if (rc != 0) {
		vg__seterr(err, errcap, "audit chain '%s': checkpoints.log %s",
		    a->chain, rc == VG_EFORMAT ? "is damaged (run 'vigil "
		    "audit verify')" : "cannot be read");
		return rc;
	}
	a->mac_epoch = (uint32_t)(ncp + 1);
	if (st.max_epoch > a->mac_epoch) {
		vg__seterr(err, errcap, "audit chain '%s' has entries of epoch "
		    "%u but checkpoints.log holds only %llu checkpoints "
		    "(checkpoints removed?)", a->chain, st.max_epoch,
		    (unsigned long long)ncp);
		return VG_EFORMAT;
	}
	/* The key state names the position of its key; the log must reach
	 * it (it is written after the entries), and the key is moved on to
	 * the next position to write. */
	if (a->state_seq > a->size) {
		vg__seterr(err, errcap, "audit chain '%s' holds %llu entries "
		    "but its MAC key is for entry %llu: entries were removed",
		    a->chain, (unsigned long long)a->size,
		    (unsigned long long)a->state_seq);
		return VG_EFORMAT;
	}
	for (pos = a->state_seq; pos < a->size; pos++)
		vg_audit_mac_evolve(a->sec->mac);	/* writable: see open */
	snprintf(a->segname, sizeof(a->segname), "%s", st.last_segment);
	a->segsize = st.last_segment_size;
	if (st.torn && st.last_segment[0] != '\0') {
		if (path_in(path, sizeof(path), a->dir, st.last_segment) != 0)
			return VG_ETOOBIG;
		a->torn_bytes = st.torn_bytes;
		if (st.torn_offset == 0) {
			/* Even the header was torn: the segment is empty. */
			if (unlink(path) != 0)
				return VG_EIO;
			a->segname[0] = '\0';
		} else if (truncate(path, (off_t)st.torn_offset) != 0) {
			return VG_EIO;
		}
		a->segsize = st.torn_offset;
		if (vg__dir_sync(a->dir) != 0)
			return VG_EIO;
	}
	if (a->cp_size > a->size) {
		vg__seterr(err, errcap, "audit chain '%s' holds %llu entries but "
		    "its checkpoint covers %llu: entries were removed",
		    a->chain, (unsigned long long)a->size,
		    (unsigned long long)a->cp_size);
		return VG_EFORMAT;
	}
	if (!levels_consistent(a) && (rc = levels_rebuild(a)) != 0)
		return rc;
	return 0;
}

static int
lock_chain(struct vg_audit *a)
{
	char path[PATH_MAX + 32];
	int tries;

	if (path_in(path, sizeof(path), a->dir, "LOCK") != 0)
		return VG_ETOOBIG;
	a->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (a->lockfd < 0)
		return VG_EIO;
	for (tries = 0; tries < 100; tries++) {
		if (flock(a->lockfd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK)
			return VG_EIO;
		usleep(50000);
	}
	return VG_EBUSY;
}

int
vg_audit_open(const struct vg_audit_opts *o, struct vg_audit **out,
    char *err, size_t errcap)
{
	struct vg_audit *a;
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	char path[PATH_MAX + 64];
	struct stat sb;
	int rc;
	size_t i;

	*out = NULL;
	if (vg_crypto_init() != 0)
		return VG_ECRYPTO;
	if (!vg__audit_chain_name_ok(o->chain) || o->origin == NULL ||
	    o->origin[0] == '\0' || strlen(o->origin) > VG_NOTE_NAME_MAX ||
	    strpbrk(o->origin, " +\n") != NULL || o->sign_seed == NULL) {
		vg__seterr(err, errcap, "invalid audit chain name or origin");
		return VG_EINVAL;
	}
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return VG_ENOMEM;
	a->lockfd = a->segfd = a->statefd = -1;
	pthread_mutex_init(&a->mu, NULL);
	{
		pthread_condattr_t ca;

		/* Deadlines on the monotonic clock: a wall-clock step must
		 * not stall appenders or checkpoints. */
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&a->cv_writer, &ca);
		pthread_condattr_destroy(&ca);
	}
	pthread_cond_init(&a->cv_space, NULL);
	pthread_cond_init(&a->cv_done, NULL);
	atomic_init(&a->done_gen, 0);
	snprintf(a->chain, sizeof(a->chain), "%s", o->chain);
	snprintf(a->origin, sizeof(a->origin), "%s", o->origin);
	a->cp_every = o->checkpoint_every ? o->checkpoint_every : 100000;
	a->cp_ms = o->checkpoint_ms ? o->checkpoint_ms : 1000;
	a->batch_us = o->batch_us ? o->batch_us : 200;
	a->segcap = o->segment_bytes ? o->segment_bytes : 64u << 20;
	a->sink = o->sink;
	a->sink_ctx = o->sink_ctx;
	a->clock = o->clock;
	a->clock_ctx = o->clock_ctx;
	a->q = calloc(QUEUE_CAP, sizeof(*a->q));
	a->spare = calloc(QUEUE_CAP, sizeof(*a->spare));
	a->wbuf = malloc((size_t)CHUNK * 512 + VG_FRAME_MAX);
	a->sec = sodium_malloc(sizeof(*a->sec));
	if (a->q == NULL || a->spare == NULL || a->wbuf == NULL ||
	    a->sec == NULL) {
		rc = VG_ENOMEM;
		goto fail;
	}
	if (o->nwitness_dirs > 0) {
		a->witness = calloc(o->nwitness_dirs, sizeof(*a->witness));
		if (a->witness == NULL) {
			rc = VG_ENOMEM;
			goto fail;
		}
		for (i = 0; i < o->nwitness_dirs; i++) {
			a->witness[i] = strdup(o->witness_dirs[i]);
			if (a->witness[i] == NULL) {
				rc = VG_ENOMEM;
				goto fail;
			}
			a->nwitness++;
		}
	}

	/* Directories and the writer's lock. */
	if (path_in(path, sizeof(path), o->vault_dir, "audit") != 0 ||
	    mkdir_p(path) != 0 ||
	    (size_t)snprintf(a->dir, sizeof(a->dir), "%s/%s", path,
	    o->chain) >= sizeof(a->dir) || mkdir_p(a->dir) != 0 ||
	    path_in(path, sizeof(path), a->dir, "tree") != 0 ||
	    mkdir_p(path) != 0) {
		vg__seterr(err, errcap, "cannot create the audit directory for "
		    "chain '%s'", o->chain);
		rc = VG_EIO;
		goto fail;
	}
	rc = lock_chain(a);
	if (rc != 0) {
		vg__seterr(err, errcap, "audit chain '%s' is %s", o->chain,
		    rc == VG_EBUSY ? "being written by another process" :
		    "not lockable");
		goto fail;
	}

	/* Keys. */
	crypto_sign_seed_keypair(pk, a->sec->sk, o->sign_seed);
	vg_note_key_init(&a->key, a->origin, pk);
	if (path_in(path, sizeof(path), a->dir, "mac.state") != 0) {
		rc = VG_ETOOBIG;
		goto fail;
	}
	if (stat(path, &sb) != 0) {
		char **segs;
		int nseg = vg__audit_list_segments(a->dir, &segs);

		vg__audit_free_names(segs, nseg > 0 ? nseg : 0);
		if (nseg > 0) {
			vg__seterr(err, errcap, "audit chain '%s' has entries but "
			    "no MAC key state (mac.state removed?)", o->chain);
			rc = VG_EFORMAT;
			goto fail;
		}
		rc = chain_create(a, o->vault_dir, err, errcap);
		if (rc != 0)
			goto fail;
	}
	a->statefd = open(path, O_RDWR | O_CLOEXEC);
	if (a->statefd < 0) {
		vg__seterr(err, errcap, "cannot open '%s'", path);
		rc = VG_EIO;
		goto fail;
	}
	rc = state_read(a);
	if (rc != 0) {
		if (err != NULL && err[0] == '\0')
			vg__seterr(err, errcap, "audit chain '%s': MAC key state "
			    "is damaged", o->chain);
		goto fail;
	}
	/*
	 * The MAC key moves on with every entry, so the writer keeps its
	 * guarded page writable while the log is open: switching it
	 * read-only and back around every batch cost two mprotect calls,
	 * each a TLB shootdown on every CPU of the process (measured with
	 * perf under vigild: about 3 percent of its CPU time at 21,000
	 * entries/s).  The guard pages and the wipe at close stay.
	 */
	sodium_mprotect_readwrite(a->sec);

	/* The log itself. */
	rc = recover(a, err, errcap);
	if (rc != 0)
		goto fail;
	if (a->segname[0] == '\0') {
		rc = segment_new(a);
	} else {
		if (path_in(path, sizeof(path), a->dir, a->segname) != 0) {
			rc = VG_ETOOBIG;
			goto fail;
		}
		a->segfd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
		rc = a->segfd < 0 ? VG_EIO : 0;
	}
	if (rc != 0) {
		vg__seterr(err, errcap, "cannot open the audit segment for "
		    "writing");
		goto fail;
	}
	clock_gettime(CLOCK_MONOTONIC, &a->cp_time);
	a->pub_size = a->size;
	a->pub_cp_size = a->cp_size;
	a->pub_epoch = a->mac_epoch;
	vg_merkle_range_root(&a->range, a->pub_root);
	if (pthread_create(&a->thr, NULL, writer_main, a) != 0) {
		rc = VG_ENOMEM;
		goto fail;
	}
	a->started = 1;
	*out = a;
	return 0;
fail:
	audit_free(a);
	return rc;
}

int
vg_audit_close(struct vg_audit *a)
{
	int rc;

	if (a == NULL)
		return 0;
	pthread_mutex_lock(&a->mu);
	a->stop = 1;
	pthread_cond_broadcast(&a->cv_writer);
	pthread_cond_broadcast(&a->cv_space);
	pthread_mutex_unlock(&a->mu);
	if (a->started)
		pthread_join(a->thr, NULL);
	if (a->segfd >= 0 && fdatasync(a->segfd) != 0 && !a->failed)
		a->failed = VG_EIO;
	rc = a->failed;
	audit_free(a);
	return rc;
}
