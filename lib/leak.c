/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The reader of leaked files (include/vigil/leak.h).  Opening reads a
 * raw prefix of the input (at most LEAK_PREFIX_MAX bytes, enough for
 * VG_LEAK_SNIFF_ROWS lines), picks the separator by parsing that prefix
 * with each candidate, then starts one vg_csv reader that first replays
 * the prefix and then pulls the rest of the input.  The first rows it
 * returns (at most VG_LEAK_SNIFF_ROWS, at most LEAK_SAMPLE_MAX bytes)
 * are copied into the sample, from which the header and the column
 * types are decided; vg_leak_next() hands the sample back, then streams
 * the rest row by row.  Nothing else of the file is held, so memory is
 * bounded whatever its size.  The rules are in docs/internals/leak.md.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "vigil/crypto.h"
#include "vigil/leak.h"

#include "leak_int.h"

#define LEAK_PREFIX_MAX	(1024 * 1024)	/* raw bytes read to sniff */
#define LEAK_SAMPLE_MAX	(1024 * 1024)	/* decoded bytes of sampled rows */
#define LEAK_CHUNK	(64 * 1024)	/* bytes asked per read */

/*
 * Room for one canonical value: the longest of the four types read is an
 * e-mail address (254 bytes), then the NUL.
 */
#define CANON_CAP	256

/* Header words that name no type but show a header: "date", "序号". */
#define KW_JUNK		99

/* What sniffing learnt of one sampled cell (bits of its mask). */
#define M_BLANK		0x01	/* empty, blank or missing */
#define M_PHONE		0x02	/* normalises as a phone */
#define M_EMAIL		0x04	/* ... as an e-mail address */
#define M_NAME		0x08	/* ... as a name (any text does) */
#define M_ACCOUNT	0x10	/* ... as an account id */
#define M_CNPHONE	0x20	/* a mainland number: canonical "+86..." */
#define M_NAMEISH	0x40	/* shaped like a person's name */

/* A sampled row: its fields are fld[first..first + nf). */
struct srow {
	uint64_t line;
	uint64_t record;
	size_t nf;
	size_t first;
};

struct sfield {
	size_t off;		/* in the arena, NUL-terminated */
	size_t len;
};

/* The counts of one column over the sampled data rows. */
struct cstat {
	uint32_t sampled;	/* cells not blank */
	uint32_t n[8];		/* cells per mask bit, by bit index */
	int kw;			/* header word: 0, a vg_ftype or KW_JUNK */
	unsigned int asked;	/* bit t: hits[t] was counted */
	uint32_t hits[VG_FT_ACCOUNT + 1];
};

/*
 * The reader.  Invariants: pre[prepos..prelen) is the part of the raw
 * prefix not yet handed to csv, and pre is NULL once it all was; the
 * sample rows row[nextrow..nrows) are still to be returned; pending
 * means crow is a row csv returned that did not fit in the sample and
 * has not been returned yet; done means csv reached the end.  Once err
 * is set, vg_leak_next() only returns it.
 */
struct vg_leak {
	vg_csv_read_fn readfn;
	void *ctx;
	char *pre;
	size_t precap;
	size_t prelen;
	size_t prepos;
	bool preeof;		/* the prefix is the whole input */
	struct vg_csv *csv;
	struct srow row[VG_LEAK_SNIFF_ROWS];
	size_t nrows;
	size_t nextrow;
	struct sfield *fld;
	size_t nfld;
	char *arena;
	size_t arenacap;
	size_t arenalen;
	bool pending;
	bool done;
	struct vg_csv_row crow;
	struct vg_leak_layout lay;
	size_t held;		/* bytes of input held: pre, arena, fld */
	size_t heldmax;
	int err;
	const char *reason;
	uint64_t eline;
	char canon[VG_LEAK_COLS_MAX][CANON_CAP];
	char scratch[CANON_CAP];
};

_Static_assert(CANON_CAP > 254, "an e-mail address fits a value slot");

/* Writes a formatted message into err (capacity cap), when there is one. */
static void errf(char *err, size_t cap, const char *fmt, ...)
    VG_PRINTF(3, 4);

static void
errf(char *err, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || cap == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, cap, fmt, ap);
	va_end(ap);
}

/* Appends to the message in err, as errf() writes it. */
static void erradd(char *err, size_t cap, const char *fmt, ...)
    VG_PRINTF(3, 4);

static void
erradd(char *err, size_t cap, const char *fmt, ...)
{
	va_list ap;
	size_t len;

	if (err == NULL || cap == 0)
		return;
	len = strnlen(err, cap);
	if (len + 1 >= cap)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err + len, cap - len, fmt, ap);
	va_end(ap);
}

static void
note_held(struct vg_leak *l, size_t was, size_t now)
{
	l->held = l->held - was + now;
	if (l->held > l->heldmax)
		l->heldmax = l->held;
}

/*
 * Grows *pp (capacity *capp, first len bytes used) to at least need
 * bytes or to max, whichever is less, by copy so that no clear value is left behind in
 * freed memory.  Returns 0 or VG_ENOMEM.
 */
static int
grow(struct vg_leak *l, char **pp, size_t *capp, size_t len, size_t need,
    size_t max)
{
	char *p;
	size_t ncap = *capp > 0 ? *capp : LEAK_CHUNK;

	if (need > max)
		need = max;
	if (need <= *capp)
		return 0;
	while (ncap < need)
		ncap *= 2;
	if (ncap > max)
		ncap = max;
	if ((p = malloc(ncap)) == NULL)
		return VG_ENOMEM;
	if (*pp != NULL) {
		memcpy(p, *pp, len);
		sodium_memzero(*pp, *capp);
		free(*pp);
	}
	note_held(l, *capp, ncap);
	*pp = p;
	*capp = ncap;
	return 0;
}

static void
drop_prefix(struct vg_leak *l)
{
	if (l->pre == NULL)
		return;
	sodium_memzero(l->pre, l->precap);
	free(l->pre);
	note_held(l, l->precap, 0);
	l->pre = NULL;
	l->precap = l->prelen = l->prepos = 0;
}

/* Frees the sample once every row of it was handed out. */
static void
drop_sample(struct vg_leak *l)
{
	if (l->arena != NULL) {
		sodium_memzero(l->arena, l->arenacap);
		free(l->arena);
		note_held(l, l->arenacap, 0);
	}
	if (l->fld != NULL) {
		sodium_memzero(l->fld, VG_LEAK_SNIFF_ROWS * VG_LEAK_COLS_MAX *
		    sizeof(*l->fld));
		free(l->fld);
		note_held(l, VG_LEAK_SNIFF_ROWS * VG_LEAK_COLS_MAX *
		    sizeof(*l->fld), 0);
	}
	l->arena = NULL;
	l->fld = NULL;
	l->arenacap = l->arenalen = l->nfld = 0;
}

/* The callback csv reads through: the prefix first, then the input. */
static ssize_t
replay_read(void *ctx, void *buf, size_t n)
{
	struct vg_leak *l = ctx;
	size_t k;

	if (l->prepos < l->prelen) {
		k = l->prelen - l->prepos;
		if (k > n)
			k = n;
		memcpy(buf, l->pre + l->prepos, k);
		l->prepos += k;
		if (l->prepos == l->prelen)
			drop_prefix(l);
		return (ssize_t)k;
	}
	if (l->preeof)
		return 0;
	return l->readfn(l->ctx, buf, n);
}

/*
 * Reads the raw prefix: until VG_LEAK_SNIFF_ROWS + 1 line ends, the end
 * of input or LEAK_PREFIX_MAX bytes.  Returns 0, VG_EIO or VG_ENOMEM.
 */
static int
read_prefix(struct vg_leak *l)
{
	size_t lfs = 0, room, i;
	ssize_t n;
	int rc;

	while (!l->preeof && l->prelen < LEAK_PREFIX_MAX &&
	    lfs <= VG_LEAK_SNIFF_ROWS) {
		if ((rc = grow(l, &l->pre, &l->precap, l->prelen,
		    l->prelen + LEAK_CHUNK, LEAK_PREFIX_MAX)) != 0)
			return rc;
		room = l->precap - l->prelen;
		if (room > LEAK_CHUNK)
			room = LEAK_CHUNK;
		n = l->readfn(l->ctx, l->pre + l->prelen, room);
		if (n < 0 || (size_t)n > room)
			return VG_EIO;
		if (n == 0) {
			l->preeof = true;
			break;
		}
		for (i = 0; i < (size_t)n; i++)
			lfs += l->pre[l->prelen + i] == '\n';
		l->prelen += (size_t)n;
	}
	return 0;
}

/* An in-memory input for the separator trials. */
struct mem {
	const char *p;
	size_t len;
	size_t pos;
};

static ssize_t
mem_read(void *ctx, void *buf, size_t n)
{
	struct mem *m = ctx;

	if (n > m->len - m->pos)
		n = m->len - m->pos;
	memcpy(buf, m->p + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

/*
 * Parses the prefix with separator d, up to VG_LEAK_SNIFF_ROWS records
 * or the first error, and returns the most common field count in *mode
 * and how many records had it in *agree.  Unless the prefix is the
 * whole input, only its complete lines are read.
 */
static int
try_delimiter(struct vg_leak *l, char d, size_t *mode, size_t *agree)
{
	static const size_t nbins = VG_CSV_FIELDS_MAX + 1;
	uint16_t count[VG_CSV_FIELDS_MAX + 1];
	struct vg_csv_row row;
	struct vg_csv *r;
	struct mem m;
	size_t cut = l->prelen, i, nf;

	if (!l->preeof) {
		while (cut > 0 && l->pre[cut - 1] != '\n')
			cut--;
		if (cut == 0)
			cut = l->prelen;
	}
	m.p = l->pre;
	m.len = cut;
	m.pos = 0;
	*mode = 0;
	*agree = 0;
	if ((r = vg_csv_new(mem_read, &m)) == NULL)
		return VG_ENOMEM;
	if (vg_csv_set_delimiter(r, d) != 0) {
		vg_csv_free(r);
		return VG_EINVAL;
	}
	memset(count, 0, sizeof(count));
	for (i = 0; i < VG_LEAK_SNIFF_ROWS && vg_csv_next(r, &row) == 1; i++) {
		nf = row.nfields < nbins ? row.nfields : nbins - 1;
		count[nf]++;
		/* Ties go to more fields: the others are often in a text. */
		if (count[nf] > *agree ||
		    (count[nf] == *agree && nf > *mode)) {
			*agree = count[nf];
			*mode = nf;
		}
	}
	vg_csv_free(r);
	return 0;
}

/*
 * The separator that splits the most sampled lines into the same number
 * (above one) of fields; ties go to more fields, then to the order
 * ',' tab ';' '|'.  ',' when none splits anything.
 */
static int
sniff_delimiter(struct vg_leak *l, char *out)
{
	static const char cand[] = { ',', '\t', ';', '|' };
	size_t i, mode, agree, bestmode = 0, bestagree = 0;
	int rc;

	*out = ',';
	for (i = 0; i < sizeof(cand); i++) {
		if ((rc = try_delimiter(l, cand[i], &mode, &agree)) != 0)
			return rc;
		if (mode < 2)
			continue;
		if (agree > bestagree ||
		    (agree == bestagree && mode > bestmode)) {
			bestagree = agree;
			bestmode = mode;
			*out = cand[i];
		}
	}
	return 0;
}

/*
 * Reads rows into the sample until VG_LEAK_SNIFF_ROWS, LEAK_SAMPLE_MAX
 * bytes or the end.  Returns 0 or csv's error.
 */
static int
read_sample(struct vg_leak *l)
{
	const size_t fldbytes = VG_LEAK_SNIFF_ROWS * VG_LEAK_COLS_MAX *
	    sizeof(*l->fld);
	struct vg_csv_row cr;
	struct srow *r;
	size_t nf, i, need;
	int rc;

	if ((l->fld = malloc(fldbytes)) == NULL)
		return VG_ENOMEM;
	note_held(l, 0, fldbytes);
	while (l->nrows < VG_LEAK_SNIFF_ROWS) {
		rc = vg_csv_next(l->csv, &cr);
		if (rc == 0) {
			l->done = true;
			break;
		}
		if (rc < 0)
			return rc;
		nf = cr.nfields < VG_LEAK_COLS_MAX ? cr.nfields :
		    VG_LEAK_COLS_MAX;
		for (need = 0, i = 0; i < nf; i++)
			need += cr.len[i] + 1;
		if (need > LEAK_SAMPLE_MAX - l->arenalen) {
			/* Full: this row is returned straight from csv. */
			l->pending = true;
			l->crow = cr;
			break;
		}
		if ((rc = grow(l, &l->arena, &l->arenacap, l->arenalen,
		    l->arenalen + need, LEAK_SAMPLE_MAX)) != 0)
			return rc;
		r = &l->row[l->nrows++];
		r->line = cr.line;
		r->record = cr.record;
		r->nf = nf;
		r->first = l->nfld;
		for (i = 0; i < nf; i++) {
			l->fld[l->nfld].off = l->arenalen;
			l->fld[l->nfld].len = cr.len[i];
			l->nfld++;
			memcpy(l->arena + l->arenalen, cr.field[i], cr.len[i]);
			l->arenalen += cr.len[i];
			l->arena[l->arenalen++] = '\0';
		}
	}
	return 0;
}

/* Field c of sample row r, or NULL when the row is shorter. */
static const char *
cell(const struct vg_leak *l, size_t r, size_t c, size_t *len)
{
	const struct sfield *f;

	*len = 0;
	if (c >= l->row[r].nf)
		return NULL;
	f = &l->fld[l->row[r].first + c];
	*len = f->len;
	return l->arena + f->off;
}

/*
 * Decodes the code point at *pp in valid UTF-8 (vg_normalize() checked
 * it) and advances past it.
 */
static uint32_t
cp_next(const unsigned char **pp, const unsigned char *end)
{
	const unsigned char *p = *pp;
	uint32_t c = *p++;
	int n = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;

	if (n > 0)
		c &= 0x3f >> n;
	while (n-- > 0 && p < end)
		c = c << 6 | (*p++ & 0x3f);
	*pp = p;
	return c;
}

/* True for space and the spaces fold() knows in UTF-8 (NBSP, U+3000). */
static bool
blank(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		if (p[i] == ' ' || (p[i] >= '\t' && p[i] <= '\r'))
			i++;
		else if (len - i >= 2 && p[i] == 0xc2 && p[i + 1] == 0xa0)
			i += 2;
		else if (len - i >= 3 && p[i] == 0xe3 && p[i + 1] == 0x80 &&
		    p[i + 2] == 0x80)
			i += 3;
		else
			return false;
	}
	return true;
}

static bool
is_han(uint32_t c)
{
	return (c >= 0x4e00 && c <= 0x9fff) || (c >= 0x3400 && c <= 0x4dbf) ||
	    (c >= 0xf900 && c <= 0xfaff) || (c >= 0x20000 && c <= 0x3134f);
}

/* The middle dots between the parts of a transcribed name (买买提·艾力). */
static bool
is_name_dot(uint32_t c)
{
	return c == 0xb7 || c == 0x2022 || c == 0x30fb || c == 0xff65;
}

/*
 * The commonest single-character surnames, about nine people in ten, and
 * the compound ones.  Every character is three bytes of UTF-8.
 */
static const char surnames[] =
    "王李张刘陈杨黄赵吴周徐孙马胡朱郭何罗高林郑梁谢唐宋许韩邓冯曹"
    "彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖"
    "石金韦贾夏付傅方邹熊白孟秦邱侯江尹薛闫阎段雷龙黎史陶贺毛郝顾"
    "龚邵万覃武钱戴严莫孔向常汤康易乔赖文施洪牛温庞樊兰葛柳倪申耿"
    "关鲁涂饶柴尤甘聂柯管翟齐岳车包纪章鲍祝殷左欧凌季单米郁宁卓蓝"
    "褚屈简路骆焦裴晏穆萧邢符";
static const char *const compound[] = {
	"欧阳", "司徒", "司马", "上官", "诸葛", "东方", "皇甫", "慕容",
	"令狐", "夏侯", "尉迟", "公孙", "长孙", "宇文", "独孤", "端木",
};

static bool
known_surname(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(compound) / sizeof(compound[0]); i++)
		if (len >= 6 && memcmp(s, compound[i], 6) == 0)
			return true;
	for (i = 0; i + 3 <= sizeof(surnames) - 1; i += 3)
		if (len >= 3 && memcmp(s, surnames + i, 3) == 0)
			return true;
	return false;
}

/*
 * True when the canonical name s[0..len) looks like a person's: two to
 * four Han characters starting with a known surname, Han parts joined by
 * middle dots, or two or three capitalised Latin words ("Zhang Wei").
 */
static bool
name_shape(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	size_t han = 0, dots = 0, words = 0, wlen = 0;
	bool latin = true, chinese = true, lastdot = true;
	uint32_t c;

	while (p < end) {
		c = cp_next(&p, end);
		if (is_han(c)) {
			han++;
			lastdot = false;
		} else if (is_name_dot(c)) {
			if (lastdot)
				chinese = false;
			dots++;
			lastdot = true;
		} else if (c != ' ')
			chinese = false;
		if (c == ' ') {
			if (wlen < 2)
				latin = false;
			wlen = 0;
		} else if (wlen == 0) {
			if (c < 'A' || c > 'Z')
				latin = false;
			words++;
			wlen = 1;
		} else {
			if (!((c >= 'a' && c <= 'z') ||
			    (c >= 'A' && c <= 'Z') || c == '-' || c == '\''))
				latin = false;
			wlen++;
		}
	}
	if (chinese && dots == 0)
		return han >= 2 && han <= 4 && known_surname(s, len);
	if (chinese)
		return !lastdot && han <= 16;
	return latin && wlen >= 2 && words >= 2 && words <= 3 && len <= 64;
}

/* What cell s[0..len) normalises as, as M_* bits. */
static unsigned int
classify(struct vg_leak *l, const char *s, size_t len)
{
	unsigned int m = 0;
	size_t n;

	if (s == NULL || blank(s, len))
		return M_BLANK;
	if (vg_normalize(VG_FT_PHONE, s, len, l->scratch, CANON_CAP, &n,
	    NULL) == 0) {
		m |= M_PHONE;
		if (n > 3 && memcmp(l->scratch, "+86", 3) == 0)
			m |= M_CNPHONE;
	}
	if (vg_normalize(VG_FT_EMAIL, s, len, l->scratch, CANON_CAP, &n,
	    NULL) == 0)
		m |= M_EMAIL;
	if (vg_normalize(VG_FT_ACCOUNT, s, len, l->scratch, CANON_CAP, &n,
	    NULL) == 0)
		m |= M_ACCOUNT;
	if (vg_normalize(VG_FT_NAME, s, len, l->scratch, CANON_CAP, &n,
	    NULL) == 0) {
		m |= M_NAME;
		if (name_shape(l->scratch, n))
			m |= M_NAMEISH;
	}
	sodium_memzero(l->scratch, sizeof(l->scratch));
	return m;
}

/* The index in cstat.n[] of mask bit b. */
static int
bit(unsigned int b)
{
	int i = 0;

	while (b > 1) {
		b >>= 1;
		i++;
	}
	return i;
}

/* The bit that says a cell normalises as type t. */
static unsigned int
norm_bit(enum vg_ftype t)
{
	switch (t) {
	case VG_FT_PHONE:
		return M_PHONE;
	case VG_FT_EMAIL:
		return M_EMAIL;
	case VG_FT_ACCOUNT:
		return M_ACCOUNT;
	case VG_FT_NAME:
		return M_NAME;
	default:
		return 0;
	}
}

/*
 * The bit that makes a cell evidence for type t when the values alone
 * decide: a mainland number, an e-mail address, a name's shape.
 */
static unsigned int
look_bit(enum vg_ftype t)
{
	switch (t) {
	case VG_FT_PHONE:
		return M_CNPHONE;
	case VG_FT_NAME:
		return M_NAMEISH;
	default:
		return norm_bit(t);
	}
}

/*
 * Header words, in the order they are tried after an exact match: a
 * cell naming two things ("联系人电话", "Customer Phone") is the first
 * of them here.  ASCII words match a whole word of the cell, the others
 * any part of it.
 */
static const struct {
	const char *word;
	int type;
} hdr_words[] = {
	{ "email", VG_FT_EMAIL }, { "mail", VG_FT_EMAIL },
	{ "emailaddress", VG_FT_EMAIL }, { "邮箱", VG_FT_EMAIL },
	{ "邮件", VG_FT_EMAIL }, { "电邮", VG_FT_EMAIL },

	{ "phone", VG_FT_PHONE }, { "mobile", VG_FT_PHONE },
	{ "tel", VG_FT_PHONE }, { "telephone", VG_FT_PHONE },
	{ "cell", VG_FT_PHONE }, { "cellphone", VG_FT_PHONE },
	{ "msisdn", VG_FT_PHONE }, { "手机", VG_FT_PHONE },
	{ "电话", VG_FT_PHONE }, { "联系方式", VG_FT_PHONE },

	{ "appleid", VG_FT_ACCOUNT }, { "account", VG_FT_ACCOUNT },
	{ "accountid", VG_FT_ACCOUNT }, { "acct", VG_FT_ACCOUNT },
	{ "login", VG_FT_ACCOUNT }, { "loginid", VG_FT_ACCOUNT },
	{ "username", VG_FT_ACCOUNT }, { "userid", VG_FT_ACCOUNT },
	{ "user", VG_FT_ACCOUNT }, { "uid", VG_FT_ACCOUNT },
	{ "icloud", VG_FT_ACCOUNT }, { "账号", VG_FT_ACCOUNT },
	{ "帐号", VG_FT_ACCOUNT }, { "账户", VG_FT_ACCOUNT },
	{ "帐户", VG_FT_ACCOUNT }, { "用户名", VG_FT_ACCOUNT },
	{ "登录名", VG_FT_ACCOUNT }, { "苹果id", VG_FT_ACCOUNT },

	{ "id", KW_JUNK }, { "no", KW_JUNK }, { "number", KW_JUNK },
	{ "address", KW_JUNK }, { "addr", KW_JUNK }, { "date", KW_JUNK },
	{ "time", KW_JUNK }, { "price", KW_JUNK }, { "amount", KW_JUNK },
	{ "total", KW_JUNK }, { "remark", KW_JUNK }, { "note", KW_JUNK },
	{ "notes", KW_JUNK }, { "comment", KW_JUNK }, { "gender", KW_JUNK },
	{ "sex", KW_JUNK }, { "age", KW_JUNK }, { "birthday", KW_JUNK },
	{ "status", KW_JUNK }, { "qq", KW_JUNK }, { "wechat", KW_JUNK },
	{ "order", KW_JUNK }, { "city", KW_JUNK }, { "province", KW_JUNK },
	{ "region", KW_JUNK }, { "country", KW_JUNK }, { "zip", KW_JUNK },
	{ "company", KW_JUNK }, { "first", KW_JUNK }, { "last", KW_JUNK },
	{ "given", KW_JUNK }, { "nick", KW_JUNK }, { "nickname", KW_JUNK },
	{ "surname", KW_JUNK }, { "地址", KW_JUNK }, { "身份证", KW_JUNK },
	{ "日期", KW_JUNK }, { "时间", KW_JUNK }, { "金额", KW_JUNK },
	{ "价格", KW_JUNK }, { "备注", KW_JUNK }, { "性别", KW_JUNK },
	{ "年龄", KW_JUNK }, { "生日", KW_JUNK }, { "微信", KW_JUNK },
	{ "状态", KW_JUNK }, { "昵称", KW_JUNK },

	{ "name", VG_FT_NAME }, { "fullname", VG_FT_NAME },
	{ "customer", VG_FT_NAME }, { "customername", VG_FT_NAME },
	{ "realname", VG_FT_NAME }, { "recipient", VG_FT_NAME },
	{ "consignee", VG_FT_NAME }, { "姓名", VG_FT_NAME },
	{ "名字", VG_FT_NAME }, { "收件人", VG_FT_NAME },
	{ "收货人", VG_FT_NAME }, { "联系人", VG_FT_NAME },
	{ "客户名", VG_FT_NAME }, { "持卡人", VG_FT_NAME },

	{ "序号", KW_JUNK }, { "编号", KW_JUNK }, { "订单", KW_JUNK },
	{ "单号", KW_JUNK }, { "城市", KW_JUNK }, { "省份", KW_JUNK },
	{ "公司", KW_JUNK }, { "数量", KW_JUNK }, { "#", KW_JUNK },
};

#define NWORDS	(sizeof(hdr_words) / sizeof(hdr_words[0]))

static bool
ascii_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* True when word occurs in s as a whole word ([a-z0-9] runs). */
static bool
has_word(const char *s, const char *word)
{
	size_t wl = strlen(word);
	const char *p = s;

	while ((p = strstr(p, word)) != NULL) {
		if ((p == s || !ascii_alnum((unsigned char)p[-1])) &&
		    !ascii_alnum((unsigned char)p[wl]))
			return true;
		p++;
	}
	return false;
}

/*
 * What header cell s[0..len) names: a vg_ftype, KW_JUNK for a word that
 * names no type, or 0.  The cell is folded (full-width, spaces) and
 * lower-cased first; "E-mail", "Apple ID" and "手机号：" are found
 * squeezed ("email", "appleid", "手机号").
 */
static int
header_word(struct vg_leak *l, const char *s, size_t len)
{
	char squeezed[CANON_CAP];
	size_t n, i, k;
	int type = 0;

	if (s == NULL || vg_normalize(VG_FT_NAME, s, len, l->scratch,
	    CANON_CAP, &n, NULL) != 0)
		return 0;
	for (i = k = 0; i < n; i++) {
		unsigned char c = (unsigned char)l->scratch[i];

		if (c >= 'A' && c <= 'Z')
			l->scratch[i] = (char)(c + 'a' - 'A');
		c = (unsigned char)l->scratch[i];
		if (c >= 0x80 || ascii_alnum(c))
			squeezed[k++] = (char)c;
	}
	squeezed[k] = '\0';
	for (i = 0; type == 0 && i < NWORDS; i++)
		if (strcmp(squeezed, hdr_words[i].word) == 0)
			type = hdr_words[i].type;
	for (i = 0; type == 0 && i < NWORDS; i++) {
		if ((unsigned char)hdr_words[i].word[0] >= 0x80) {
			if (strstr(squeezed, hdr_words[i].word) != NULL)
				type = hdr_words[i].type;
		} else if (has_word(l->scratch, hdr_words[i].word))
			type = hdr_words[i].type;
	}
	sodium_memzero(l->scratch, sizeof(l->scratch));
	sodium_memzero(squeezed, sizeof(squeezed));
	return type;
}

/*
 * Copies header cell s[0..len) into dst (VG_LEAK_HEADER_MAX + 1 bytes),
 * cut at a character boundary, controls and bidirectional marks made
 * '?' so that printing it cannot disguise anything.
 */
static void
copy_header(char *dst, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len, *q;
	size_t n = 0;
	uint32_t c;

	while (p < end) {
		q = p;
		c = cp_next(&p, end);
		if (c < 0x20 || (c >= 0x7f && c <= 0x9f) ||
		    (c >= 0x200b && c <= 0x200f) ||
		    (c >= 0x2028 && c <= 0x202e) ||
		    (c >= 0x2060 && c <= 0x2069) || c == 0x061c ||
		    c == 0xfeff) {
			if (n + 1 > VG_LEAK_HEADER_MAX)
				break;
			dst[n++] = '?';
			continue;
		}
		if ((size_t)(p - q) > VG_LEAK_HEADER_MAX - n)
			break;
		memcpy(dst + n, q, (size_t)(p - q));
		n += (size_t)(p - q);
	}
	dst[n] = '\0';
}

/* Adds up masks[from..nrows) of column c into *st (kw untouched). */
static void
count_column(const struct vg_leak *l, const uint8_t *masks, size_t from,
    size_t c, struct cstat *st)
{
	unsigned int m, b;
	size_t r;

	st->sampled = 0;
	memset(st->n, 0, sizeof(st->n));
	for (r = from; r < l->nrows; r++) {
		m = masks[r * VG_LEAK_COLS_MAX + c];
		if (m & M_BLANK)
			continue;
		st->sampled++;
		for (b = M_PHONE; b <= M_NAMEISH; b <<= 1)
			if (m & b)
				st->n[bit(b)]++;
	}
}

static uint32_t
nbits(const struct cstat *st, unsigned int b)
{
	return st->n[bit(b)];
}

/*
 * The type column values alone make of a column: phone, e-mail or name
 * when more than half of its values look so, else 0.
 */
static enum vg_ftype
by_values(const struct cstat *st)
{
	static const enum vg_ftype order[] = {
		VG_FT_PHONE, VG_FT_EMAIL, VG_FT_NAME
	};
	enum vg_ftype best = 0;
	uint32_t most = 0, k;
	size_t i;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		k = nbits(st, look_bit(order[i]));
		if (k > most) {
			most = k;
			best = order[i];
		}
	}
	return 2 * most > st->sampled ? best : 0;
}

/*
 * Counts the values of column c in data rows that normalise as t and
 * hit the vault, once per column and type (st caches it).  Returns 0 or
 * the callback's error.
 */
static int
count_hits(struct vg_leak *l, const struct vg_leak_opts *o, size_t from,
    size_t c, enum vg_ftype t, struct cstat *st, uint32_t *hits)
{
	const char *s;
	size_t r, len, n;
	int rc = 0;

	if (st->asked & (1u << t)) {
		*hits = st->hits[t];
		return 0;
	}
	*hits = 0;
	for (r = from; r < l->nrows; r++) {
		s = cell(l, r, c, &len);
		if (s == NULL || blank(s, len) || vg_normalize(t, s, len,
		    l->scratch, CANON_CAP, &n, NULL) != 0)
			continue;
		rc = o->hit(o->hit_ctx, t, l->scratch, n);
		if (rc < 0)
			break;
		if (rc > 0)
			(*hits)++;
		rc = 0;
	}
	sodium_memzero(l->scratch, sizeof(l->scratch));
	if (rc == 0) {
		st->asked |= 1u << t;
		st->hits[t] = *hits;
	}
	return rc;
}

/* Parses opts.columns into types[]; returns the count or VG_EINVAL. */
static int
parse_columns(const char *spec, enum vg_ftype *types, char *err,
    size_t errcap)
{
	char tok[16];
	size_t n = 0, k, used = 0;
	const char *p = spec, *q;

	for (;;) {
		q = p + strcspn(p, ",");
		while (p < q && *p == ' ')
			p++;
		k = (size_t)(q - p);
		while (k > 0 && p[k - 1] == ' ')
			k--;
		if (n == VG_LEAK_COLS_MAX) {
			errf(err, errcap, "columns: more than %d columns",
			    VG_LEAK_COLS_MAX);
			return VG_EINVAL;
		}
		if (k >= sizeof(tok))
			k = sizeof(tok) - 1;
		memcpy(tok, p, k);
		tok[k] = '\0';
		if (k == 0 || strcmp(tok, "-") == 0 || strcmp(tok, "junk") == 0)
			types[n] = 0;
		else if (strcmp(tok, "name") == 0)
			types[n] = VG_FT_NAME;
		else if (strcmp(tok, "phone") == 0)
			types[n] = VG_FT_PHONE;
		else if (strcmp(tok, "email") == 0 ||
		    strcmp(tok, "e-mail") == 0)
			types[n] = VG_FT_EMAIL;
		else if (strcmp(tok, "account") == 0 ||
		    strcmp(tok, "account_id") == 0)
			types[n] = VG_FT_ACCOUNT;
		else if (strcmp(tok, "pseudonym") == 0 ||
		    strcmp(tok, "psn") == 0)
			types[n] = VG_LEAK_PSEUDONYM;
		else {
			errf(err, errcap, "columns: unknown type in position "
			    "%zu (name, phone, email, account, pseudonym or -)",
			    n + 1);
			return VG_EINVAL;
		}
		used += types[n] != 0;
		n++;
		if (*q == '\0')
			break;
		p = q + 1;
	}
	if (used == 0) {
		errf(err, errcap, "columns: no column is a name, phone, email, "
		    "account or pseudonym");
		return VG_EINVAL;
	}
	return (int)n;
}

/* How strongly a column was typed, to rank columns of one type. */
static int
rank(const char *how)
{
	if (strcmp(how, "forced") == 0)
		return 4;
	if (strcmp(how, "vault") == 0)
		return 3;
	if (strcmp(how, "header") == 0)
		return 2;
	return 1;
}

/*
 * Keeps one column per type: the strongest (forced, vault, header, then
 * values; then the larger share; then the leftmost).  Another column of
 * the type stays used only when forced or when at least four values in
 * five of it are of the type (the same data twice, or a second phone).
 */
static void
one_per_type(struct vg_leak *l, const struct cstat *st)
{
	struct vg_leak_column *a, *b;
	size_t i, j, best;
	enum vg_ftype t;

	for (t = VG_FT_NAME; t <= VG_FT_ACCOUNT; t++) {
		best = SIZE_MAX;
		for (i = 0; i < l->lay.ncolumns; i++) {
			a = &l->lay.col[i];
			if (a->type != t)
				continue;
			if (best == SIZE_MAX) {
				best = i;
				continue;
			}
			b = &l->lay.col[best];
			if (rank(a->how) > rank(b->how) ||
			    (rank(a->how) == rank(b->how) &&
			    (uint64_t)nbits(&st[i], look_bit(t)) *
			    st[best].sampled >
			    (uint64_t)nbits(&st[best], look_bit(t)) *
			    st[i].sampled))
				best = i;
		}
		for (j = 0; best != SIZE_MAX && j < l->lay.ncolumns; j++) {
			a = &l->lay.col[j];
			if (j == best || a->type != t ||
			    strcmp(a->how, "forced") == 0)
				continue;
			if (5 * (uint64_t)nbits(&st[j], look_bit(t)) >=
			    4 * (uint64_t)st[j].sampled && st[j].sampled > 0)
				continue;
			a->type = 0;
			a->how = "unused";
		}
	}
}

/*
 * The canonical form of a pseudonym cell: "psn_" and 39 base32
 * characters, in lower case, spaces around it trimmed.  Returns 0 with
 * *n, or VG_EINVAL.
 */
static int
psn_canon(const char *s, size_t len, char *out, size_t cap, size_t *n)
{
	unsigned char psn[VG_PSNBYTES];
	size_t i;
	int rc;

	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len != VG_PSN_STRLEN - 1 || len >= cap)
		return VG_EINVAL;
	for (i = 0; i < len; i++)
		out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
	out[len] = '\0';
	rc = vg_psn_parse(psn, out);
	sodium_memzero(psn, sizeof(psn));
	if (rc != 0) {
		out[0] = '\0';
		return VG_EINVAL;
	}
	*n = len;
	return 0;
}

/* The sampled cells of column c that are pseudonyms. */
static uint32_t
psn_count(struct vg_leak *l, size_t from, size_t c)
{
	uint32_t good = 0;
	size_t r, len, n;
	const char *s;

	for (r = from; r < l->nrows; r++)
		if ((s = cell(l, r, c, &len)) != NULL && !blank(s, len) &&
		    psn_canon(s, len, l->scratch, CANON_CAP, &n) == 0)
			good++;
	sodium_memzero(l->scratch, sizeof(l->scratch));
	return good;
}

/* Most of a column's sampled cells are pseudonyms. */
static bool
psn_column(struct vg_leak *l, size_t from, size_t c, const struct cstat *st)
{
	return st->sampled > 0 &&
	    5 * (uint64_t)psn_count(l, from, c) >= 4 * (uint64_t)st->sampled;
}

/*
 * Types one column that opts did not force, from its values, its header
 * word and the vault.  Returns 0 or the hit callback's error.
 */
static int
type_column(struct vg_leak *l, const struct vg_leak_opts *o, size_t from,
    size_t c, struct cstat *st)
{
	static const enum vg_ftype rescue[] = {
		VG_FT_PHONE, VG_FT_EMAIL, VG_FT_ACCOUNT, VG_FT_NAME
	};
	struct vg_leak_column *col = &l->lay.col[c];
	enum vg_ftype t;
	uint32_t he, ha, h, best = 0;
	size_t i;
	int rc, kw = st->kw;

	col->type = 0;
	col->how = "unused";
	if (st->sampled == 0)
		return 0;
	if (psn_column(l, from, c, st)) {
		col->type = VG_LEAK_PSEUDONYM;
		col->how = "values";
		return 0;
	}
	if ((t = by_values(st)) != 0) {
		col->type = t;
		col->how = kw == (int)t ? "header" : "values";
	} else if ((kw == VG_FT_PHONE || kw == VG_FT_EMAIL) &&
	    5 * nbits(st, look_bit(kw)) >= st->sampled &&
	    nbits(st, look_bit(kw)) > 0) {
		col->type = kw;
		col->how = "header";
	} else if ((kw == VG_FT_NAME || kw == VG_FT_ACCOUNT) &&
	    2 * nbits(st, norm_bit(kw)) > st->sampled) {
		col->type = kw;
		col->how = "header";
	}
	if (col->type == VG_FT_EMAIL && kw == VG_FT_ACCOUNT) {
		col->type = VG_FT_ACCOUNT;
		col->how = "header";
	}

	/* E-mail or account id: the reading that finds customers. */
	if (o->hit != NULL && (col->type == VG_FT_EMAIL ||
	    col->type == VG_FT_ACCOUNT) &&
	    2 * nbits(st, M_EMAIL) > st->sampled) {
		if ((rc = count_hits(l, o, from, c, VG_FT_EMAIL, st,
		    &he)) != 0 ||
		    (rc = count_hits(l, o, from, c, VG_FT_ACCOUNT, st,
		    &ha)) != 0)
			return rc;
		if (he > ha || (he == ha && he > 0 && kw != VG_FT_ACCOUNT)) {
			col->type = VG_FT_EMAIL;
			col->how = "vault";
		} else if (ha > 0) {
			col->type = VG_FT_ACCOUNT;
			col->how = "vault";
		}
	}

	/* Nothing yet: a reading that finds customers often enough. */
	for (i = 0; o->hit != NULL && col->type == 0 &&
	    i < sizeof(rescue) / sizeof(rescue[0]); i++) {
		t = rescue[i];
		if (2 * nbits(st, norm_bit(t)) <= st->sampled)
			continue;
		if ((rc = count_hits(l, o, from, c, t, st, &h)) != 0)
			return rc;
		if (h > best && 10 * (uint64_t)h >= st->sampled) {
			best = h;
			col->type = t;
			col->how = "vault";
		}
	}
	return 0;
}

/*
 * Two e-mail columns that neither a header word nor the vault told
 * apart, and no account id column: the strongest is the e-mail, the
 * next one typed by its values alone the account id.
 */
static void
second_email(struct vg_leak *l)
{
	struct vg_leak_column *col;
	size_t c, best = SIZE_MAX;

	for (c = 0; c < l->lay.ncolumns; c++) {
		col = &l->lay.col[c];
		if (col->type == VG_FT_ACCOUNT)
			return;
		if (col->type == VG_FT_EMAIL && (best == SIZE_MAX ||
		    rank(col->how) > rank(l->lay.col[best].how)))
			best = c;
	}
	for (c = 0; best != SIZE_MAX && c < l->lay.ncolumns; c++) {
		col = &l->lay.col[c];
		if (c != best && col->type == VG_FT_EMAIL &&
		    strcmp(col->how, "values") == 0) {
			col->type = VG_FT_ACCOUNT;
			return;
		}
	}
}

/* Writes what each column looked like into err, never a value. */
static void
explain(const struct vg_leak *l, const struct cstat *st, size_t ndata,
    char *err, size_t errcap)
{
	size_t c;

	errf(err, errcap, "no column holds a name, phone, e-mail or account "
	    "id (%zu data rows sampled, %zu columns)", ndata,
	    l->lay.ncolumns);
	for (c = 0; c < l->lay.ncolumns; c++) {
		erradd(err, errcap, "; column %zu", c + 1);
		if (st[c].kw != 0 && st[c].kw != KW_JUNK)
			erradd(err, errcap, " (header says %s)",
			    vg_ftype_name((enum vg_ftype)st[c].kw));
		if (st[c].sampled == 0) {
			erradd(err, errcap, ": empty");
			continue;
		}
		erradd(err, errcap, ": phone %u%%, e-mail %u%%, name %u%%, "
		    "account id %u%%",
		    (unsigned)(100 * (uint64_t)nbits(&st[c], M_CNPHONE) /
		    st[c].sampled),
		    (unsigned)(100 * (uint64_t)nbits(&st[c], M_EMAIL) /
		    st[c].sampled),
		    (unsigned)(100 * (uint64_t)nbits(&st[c], M_NAMEISH) /
		    st[c].sampled),
		    (unsigned)(100 * (uint64_t)nbits(&st[c], M_ACCOUNT) /
		    st[c].sampled));
	}
}

/*
 * Decides whether sample row 0 is a header: it is when more of its
 * cells are header words or fail their column's type than pass it.
 * A column's type here is the forced one, else what the values of the
 * later rows make of it.
 */
static bool
sniff_header(struct vg_leak *l, const uint8_t *masks, const int *kw,
    const enum vg_ftype *forced)
{
	struct cstat st;
	size_t c, words = 0, pass = 0, fail = 0;
	unsigned int m, b;
	enum vg_ftype t;

	for (c = 0; c < l->row[0].nf; c++) {
		m = masks[c];
		if (m & M_BLANK)
			continue;
		if (kw[c] != 0) {
			words++;
			continue;
		}
		if (forced != NULL)
			t = forced[c];
		else {
			count_column(l, masks, 1, c, &st);
			t = by_values(&st);
		}
		if (t == VG_LEAK_PSEUDONYM) {
			const char *s;
			size_t len, n;

			if ((s = cell(l, 0, c, &len)) != NULL &&
			    psn_canon(s, len, l->scratch, CANON_CAP, &n) == 0)
				pass++;
			else
				fail++;
			continue;
		}
		b = look_bit(t);
		if (t == 0)
			continue;
		if (m & b)
			pass++;
		else
			fail++;
	}
	return words + fail > pass;
}

/* Decides the layout from the sample.  Returns 0 or an error (err set). */
static int
sniff_layout(struct vg_leak *l, const struct vg_leak_opts *o,
    const enum vg_ftype *forced, size_t nforced, char *err, size_t errcap)
{
	struct cstat st[VG_LEAK_COLS_MAX];
	int kw[VG_LEAK_COLS_MAX];
	struct vg_leak_column *col;
	uint8_t *masks = NULL;
	const char *s;
	size_t r, c, from, len, used = 0;
	int rc = 0;

	memset(st, 0, sizeof(st));
	memset(kw, 0, sizeof(kw));
	for (r = 0; r < l->nrows; r++)
		if (l->row[r].nf > l->lay.ncolumns)
			l->lay.ncolumns = l->row[r].nf;
	if (nforced > l->lay.ncolumns)
		l->lay.ncolumns = nforced;
	if ((masks = calloc(VG_LEAK_SNIFF_ROWS, VG_LEAK_COLS_MAX)) == NULL) {
		errf(err, errcap, "out of memory");
		return VG_ENOMEM;
	}
	for (r = 0; r < l->nrows; r++) {
		for (c = 0; c < l->lay.ncolumns; c++) {
			s = cell(l, r, c, &len);
			masks[r * VG_LEAK_COLS_MAX + c] =
			    (uint8_t)classify(l, s, len);
		}
	}
	for (c = 0; l->nrows > 0 && c < l->row[0].nf; c++) {
		s = cell(l, 0, c, &len);
		kw[c] = header_word(l, s, len);
	}

	if (o->header >= 0)
		l->lay.header = o->header == 1 && l->nrows > 0;
	else
		l->lay.header = l->nrows > 0 && sniff_header(l, masks, kw,
		    nforced > 0 ? forced : NULL);
	from = l->lay.header ? 1 : 0;
	for (c = 0; c < l->lay.ncolumns; c++) {
		col = &l->lay.col[c];
		count_column(l, masks, from, c, &st[c]);
		if (l->lay.header) {
			s = cell(l, 0, c, &len);
			if (s != NULL)
				copy_header(col->header, s, len);
			st[c].kw = kw[c];
		}
		col->sampled = st[c].sampled;
	}

	if (nforced > 0) {
		for (c = 0; c < l->lay.ncolumns; c++) {
			col = &l->lay.col[c];
			col->type = c < nforced ? forced[c] : 0;
			col->how = col->type != 0 ? "forced" : "unused";
		}
	} else {
		if (l->nrows <= from) {
			errf(err, errcap, "no data rows to sniff the columns "
			    "from%s", l->lay.header ? " (only a header)" : "");
			rc = VG_EINVAL;
			goto out;
		}
		for (c = 0; c < l->lay.ncolumns; c++)
			if ((rc = type_column(l, o, from, c, &st[c])) != 0) {
				errf(err, errcap, "hit callback failed on "
				    "column %zu", c + 1);
				goto out;
			}
		second_email(l);
	}
	for (c = 0; c < l->lay.ncolumns; c++) {
		col = &l->lay.col[c];
		/* A pseudonym is no field type: no mask bit, no vault. */
		col->parsed = col->type == VG_LEAK_PSEUDONYM ?
		    psn_count(l, from, c) : col->type != 0 ?
		    nbits(&st[c], norm_bit(col->type)) : 0;
	}
	if (nforced == 0)
		one_per_type(l, st);
	for (c = 0; c < l->lay.ncolumns; c++) {
		col = &l->lay.col[c];
		if (col->type == 0) {
			col->parsed = 0;
			continue;
		}
		used++;
		if (o->hit != NULL && col->type != VG_LEAK_PSEUDONYM &&
		    (rc = count_hits(l, o, from, c, col->type, &st[c],
		    &col->hits)) != 0) {
			errf(err, errcap, "hit callback failed on column %zu",
			    c + 1);
			goto out;
		}
	}
	if (used == 0 && nforced == 0) {
		explain(l, st, l->nrows - from, err, errcap);
		rc = VG_EINVAL;
	}
out:
	if (masks != NULL) {
		sodium_memzero(masks, VG_LEAK_SNIFF_ROWS * VG_LEAK_COLS_MAX);
		free(masks);
	}
	return rc;
}

void
vg_leak_opts_default(struct vg_leak_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->header = -1;
}

int
vg_leak_open(vg_csv_read_fn readfn, void *ctx, const struct vg_leak_opts *o,
    struct vg_leak **out, char *err, size_t errcap)
{
	struct vg_leak_opts defaults;
	enum vg_ftype forced[VG_LEAK_COLS_MAX];
	struct vg_leak *l = NULL;
	uint64_t line;
	size_t nforced = 0, col, c;
	int rc;

	errf(err, errcap, "%s", "");
	if (out != NULL)
		*out = NULL;
	if (readfn == NULL || out == NULL) {
		errf(err, errcap, "no input to read");
		return VG_EINVAL;
	}
	if (o == NULL) {
		vg_leak_opts_default(&defaults);
		o = &defaults;
	}
	if (o->header < -1 || o->header > 1) {
		errf(err, errcap, "header must be -1 (sniff), 0 or 1");
		return VG_EINVAL;
	}
	if (o->delimiter != 0 && o->delimiter != ',' &&
	    o->delimiter != '\t' && o->delimiter != ';' &&
	    o->delimiter != '|') {
		errf(err, errcap, "delimiter must be ',', tab, ';' or '|'");
		return VG_EINVAL;
	}
	memset(forced, 0, sizeof(forced));
	if (o->columns != NULL) {
		if ((rc = parse_columns(o->columns, forced, err, errcap)) < 0)
			return rc;
		nforced = (size_t)rc;
	}

	if ((l = calloc(1, sizeof(*l))) == NULL) {
		errf(err, errcap, "out of memory");
		return VG_ENOMEM;
	}
	l->readfn = readfn;
	l->ctx = ctx;
	l->reason = "";
	for (c = 0; c < VG_LEAK_COLS_MAX; c++)
		l->lay.col[c].how = "unused";
	if ((rc = read_prefix(l)) != 0) {
		errf(err, errcap, rc == VG_EIO ? "read error in the first "
		    "rows" : "out of memory");
		goto fail;
	}
	l->lay.delimiter = o->delimiter;
	if (o->delimiter == 0 &&
	    (rc = sniff_delimiter(l, &l->lay.delimiter)) != 0) {
		errf(err, errcap, "out of memory");
		goto fail;
	}
	if ((l->csv = vg_csv_new(replay_read, l)) == NULL) {
		rc = VG_ENOMEM;
		errf(err, errcap, "out of memory");
		goto fail;
	}
	if ((rc = vg_csv_set_delimiter(l->csv, l->lay.delimiter)) != 0) {
		errf(err, errcap, "delimiter not supported");
		goto fail;
	}
	if ((rc = read_sample(l)) != 0) {
		if (rc == VG_ENOMEM && *vg_csv_error(l->csv, NULL, NULL) ==
		    '\0')
			errf(err, errcap, "out of memory");
		else {
			const char *why = vg_csv_error(l->csv, &line, &col);

			errf(err, errcap, "line %llu, column %zu: %s",
			    (unsigned long long)line, col, why);
		}
		goto fail;
	}
	if ((rc = sniff_layout(l, o, forced, nforced, err, errcap)) != 0)
		goto fail;
	l->nextrow = l->lay.header ? 1 : 0;
	*out = l;
	return 0;
fail:
	vg_leak_free(l);
	return rc;
}

const struct vg_leak_layout *
vg_leak_layout(const struct vg_leak *l)
{
	return l != NULL ? &l->lay : NULL;
}

/* Turns one record into *row: the used columns' canonical values. */
static void
fill(struct vg_leak *l, struct vg_leak_row *row, uint64_t line,
    uint64_t record, const char *const *f, const size_t *len, size_t nf)
{
	const struct vg_leak_column *col;
	struct vg_leak_value *v;
	size_t c, n;

	row->line = line;
	row->record = record;
	row->nvalues = row->nbad = row->nempty = 0;
	for (c = 0; c < l->lay.ncolumns; c++) {
		col = &l->lay.col[c];
		if (col->type == 0)
			continue;
		if (c >= nf || blank(f[c], len[c])) {
			row->nempty++;
			continue;
		}
		v = &row->value[row->nvalues];
		if (col->type == VG_LEAK_PSEUDONYM ? psn_canon(f[c], len[c],
		    l->canon[row->nvalues], CANON_CAP, &n) != 0 :
		    vg_normalize(col->type, f[c], len[c],
		    l->canon[row->nvalues], CANON_CAP, &n, NULL) != 0) {
			row->nbad++;
			continue;
		}
		v->type = col->type;
		v->column = (int)c;
		v->canon = l->canon[row->nvalues];
		v->len = n;
		row->nvalues++;
	}
}

int
vg_leak_next(struct vg_leak *l, struct vg_leak_row *row)
{
	const char *f[VG_LEAK_COLS_MAX];
	size_t len[VG_LEAK_COLS_MAX];
	const struct srow *r;
	struct vg_csv_row cr;
	size_t i, col;
	int rc;

	if (l == NULL || row == NULL)
		return VG_EINVAL;
	row->line = row->record = 0;
	row->nvalues = row->nbad = row->nempty = 0;
	if (l->err != 0)
		return l->err;
	if (l->nextrow < l->nrows) {
		r = &l->row[l->nextrow++];
		for (i = 0; i < r->nf; i++) {
			f[i] = l->arena + l->fld[r->first + i].off;
			len[i] = l->fld[r->first + i].len;
		}
		fill(l, row, r->line, r->record, f, len, r->nf);
		return 1;
	}
	if (l->arena != NULL || l->fld != NULL)
		drop_sample(l);
	if (l->pending) {
		l->pending = false;
		fill(l, row, l->crow.line, l->crow.record, l->crow.field,
		    l->crow.len, l->crow.nfields);
		return 1;
	}
	if (l->done)
		return 0;
	rc = vg_csv_next(l->csv, &cr);
	if (rc == 0) {
		l->done = true;
		return 0;
	}
	if (rc < 0) {
		l->err = rc;
		l->reason = vg_csv_error(l->csv, &l->eline, &col);
		return rc;
	}
	fill(l, row, cr.line, cr.record, cr.field, cr.len, cr.nfields);
	return 1;
}

const char *
vg_leak_error(const struct vg_leak *l, uint64_t *line)
{
	if (line != NULL)
		*line = l != NULL && l->err != 0 ? l->eline : 0;
	if (l == NULL || l->err == 0)
		return "";
	return l->reason;
}

void
vg_leak_free(struct vg_leak *l)
{
	if (l == NULL)
		return;
	drop_prefix(l);
	drop_sample(l);
	vg_csv_free(l->csv);
	/* The sample's header cells and the last row's values. */
	sodium_memzero(l, sizeof(*l));
	free(l);
}

size_t
vg__leak_held_max(const struct vg_leak *l)
{
	return l != NULL ? l->heldmax : 0;
}
