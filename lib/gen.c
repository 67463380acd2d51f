/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The synthetic customer generator declared in include/vigil/gen.h.
 *
 * Everything derives from one 64-bit seed: splitmix64 expands it into the
 * state of a xoshiro256** generator and into the round keys of a Feistel
 * permutation.  Only integer arithmetic is used, bounded draws are
 * unbiased (Lemire's multiply-and-reject) and weighted draws search
 * cumulative integer tables, so a seed gives the same bytes on every
 * machine.  Phone numbers are unique by construction (the subscriber
 * digits are a keyed permutation of the customer index); e-mail
 * addresses and account ids are unique because a fixed-size Bloom filter
 * rejects any candidate that may have been issued before.  The data
 * tables live in gen_data.h; docs/internals/gen.md describes the
 * distributions and the guarantees.
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/error.h"
#include "vigil/gen.h"
#include "vigil/region.h"

#include "gen_data.h"
#include "mix.h"

/* The first 31 entries of vg_provinces[] are the mainland. */
#define NMAINLAND	31

#define NSURNAMES	NELEM(gen_surnames)
#define NGIVENS		NELEM(gen_givens)
#define NCITIES		NELEM(gen_cities)
#define NPREFIXES	NELEM(gen_prefixes)
#define NCDOMAINS	NELEM(gen_contact_domains)
#define NADOMAINS	NELEM(gen_account_domains)

/*
 * The phone permutation: a balanced Feistel network on two base-10^4
 * halves is a bijection of [0, 10^8), the range of the eight subscriber
 * digits, so no cycle-walking is needed.
 */
#define FEISTEL_ROUNDS	6
#define FEISTEL_HALF	10000u
#define SUBSCRIBERS	100000000u

/*
 * The Bloom filter of issued addresses: 2^18 blocks of 512 bits (16 MiB),
 * BLOOM_K bits per address, all in one block so that a lookup touches one
 * cache line.  At a million customers about one candidate in a million
 * is rejected falsely; a false rejection only costs a redraw.
 */
#define BLOOM_LOG2_BLOCKS	18
#define BLOOM_BLOCK_WORDS	8
#define BLOOM_K			7

/* Candidates drawn before falling back to a phone-derived address. */
#define MAX_TRIES	16

/* Local-part patterns of pinyin-based addresses. */
enum local_pat {
	L_FULL,			/* wangfang */
	L_GIVEN_SUR,		/* fangwang */
	L_GIVEN_DOT_SUR,	/* fang.wang */
	L_SUR_DOT_GIVEN,	/* wang.fang */
	L_SUR_US_GIVEN_YY,	/* wang_fang88 */
	L_INIT_YEAR,		/* wf1990 */
	L_FULL_YEAR,		/* wangfang1990 */
	L_FULL_LUCKY,		/* wangfang520 */
	L_FULL_MMDD,		/* wangfang0815 */
	L_SUR_GINIT_DIGITS,	/* wangxf, wangxf88 */
	L_INIT_DIGITS,		/* wxf2468 */
	L_GIVEN_DOT_SUR_YEAR,	/* fang.wang1990 */
	L_SUR_GINIT_US_YEAR,	/* wangf_1987 */
	L_GIVEN_SUR_DIGITS,	/* fangwang123 */
	NLOCAL
};

static const uint32_t contact_pat_w[NLOCAL] = {
	10, 2, 5, 5, 6, 5, 10, 8, 4, 6, 5, 2, 2, 3
};
static const uint32_t account_pat_w[NLOCAL] = {
	3, 2, 4, 3, 5, 4, 10, 6, 4, 5, 3, 12, 10, 4
};

/* Kinds of contact address, in per-cent. */
enum { C_QQ, C_PHONE, C_PINYIN, NCKIND };
static const uint32_t contact_kind_w[NCKIND] = { 28, 3, 69 };

/* Kinds of account id, in per-cent. */
enum { A_REUSE, A_QQ, A_PINYIN, NAKIND };
static const uint32_t account_kind_w[NAKIND] = { 30, 10, 60 };

/* QQ number lengths 5..11, weighted toward today's 9 and 10 digits. */
#define QQ_MINLEN 5
static const uint32_t qq_len_w[] = { 1, 2, 4, 10, 38, 42, 3 };

/* Phone number layouts, in per-cent. */
enum { F_PLAIN, F_SPACED, F_INTL_DASHED, F_INTL, F_0086, NFORMAT };
static const uint32_t phone_format_w[NFORMAT] = { 85, 4, 4, 4, 3 };

/*
 * Generator state.  Invariants: bloom is never NULL; every cum_* table is
 * non-decreasing with a non-zero last entry; the cities of mainland
 * province i are gen_cities[city_first[i] .. city_first[i] +
 * city_count[i]), and cum_city[] restarts from zero at each city_first.
 */
struct vg_gen {
	uint64_t	 s[4];			/* xoshiro256** state */
	uint64_t	 n;			/* customers generated */
	uint64_t	 fkey[FEISTEL_ROUNDS];
	uint64_t	*bloom;
	const char	*prov_full[NMAINLAND];
	uint16_t	 city_first[NMAINLAND];
	uint16_t	 city_count[NMAINLAND];
	uint32_t	 cum_prov[NMAINLAND];
	uint32_t	 cum_sur[NSURNAMES];
	uint32_t	 cum_given[2][NGIVENS];	/* [0] male, [1] female */
	uint32_t	 cum_solo[2][NGIVENS];	/* one-character names */
	uint32_t	 cum_city[NCITIES];
	uint32_t	 cum_prefix[NPREFIXES];
	uint32_t	 cum_cdom[NCDOMAINS];
	uint32_t	 cum_adom[NADOMAINS];
	uint32_t	 cum_cpat[NLOCAL];
	uint32_t	 cum_apat[NLOCAL];
	uint32_t	 cum_ckind[NCKIND];
	uint32_t	 cum_akind[NAKIND];
	uint32_t	 cum_qqlen[NELEM(qq_len_w)];
	uint32_t	 cum_pfmt[NFORMAT];
};

/* One customer's name and the facts its addresses are built from. */
struct person {
	const char	*sur_zh;
	const char	*sur_py;
	const char	*g_zh[2];
	const char	*g_py[2];
	int		 ng;		/* given-name characters, 1 or 2 */
	unsigned int	 year, month, day;
	char		 phone[12];	/* 11 digits */
	int		 op;		/* GEN_CM, GEN_CU or GEN_CT */
};

/*
 * A bounded string builder over a caller's array.  It truncates rather
 * than overflows; p[len] is always NUL and len < cap.
 */
struct sb {
	char	*p;
	size_t	 cap;
	size_t	 len;
};

static void
sb_init(struct sb *b, char *p, size_t cap)
{
	b->p = p;
	b->cap = cap;
	b->len = 0;
	p[0] = '\0';
}

static void
sb_putn(struct sb *b, const char *s, size_t n)
{
	if (n > b->cap - 1 - b->len)
		n = b->cap - 1 - b->len;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
sb_put(struct sb *b, const char *s)
{
	sb_putn(b, s, strlen(s));
}

static void
sb_putc(struct sb *b, char c)
{
	sb_putn(b, &c, 1);
}

/* Appends v in decimal, zero-padded to at least width digits. */
static void
sb_num(struct sb *b, uint64_t v, int width)
{
	char tmp[24];
	int i = (int)sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
		width--;
	} while (v != 0 || width > 0);
	sb_putn(b, tmp + i, sizeof(tmp) - (size_t)i);
}



static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256** 1.0 (Blackman and Vigna). */
static uint64_t
next64(struct vg_gen *g)
{
	uint64_t *s = g->s;
	uint64_t r = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

/*
 * Returns a uniform integer in [0, range), range > 0, by Lemire's
 * multiply-and-reject method ("Fast random integer generation in an
 * interval", 2019): no bias and rarely a division.
 */
static uint32_t
below(struct vg_gen *g, uint32_t range)
{
	uint64_t m = (next64(g) >> 32) * (uint64_t)range;
	uint32_t lo = (uint32_t)m;

	if (lo < range) {
		uint32_t t = (uint32_t)(0u - range) % range;

		while (lo < t) {
			m = (next64(g) >> 32) * (uint64_t)range;
			lo = (uint32_t)m;
		}
	}
	return (uint32_t)(m >> 32);
}

/* Returns an index drawn with the weights whose running sums are cum[]. */
static size_t
pick(struct vg_gen *g, const uint32_t *cum, size_t n)
{
	uint32_t r = below(g, cum[n - 1]);
	size_t lo = 0, hi = n - 1;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cum[mid] > r)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static void
cum_from(uint32_t *cum, const uint32_t *w, size_t n)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		sum += w[i];
		cum[i] = sum;
	}
}

/* Returns a uniform draw of k decimal digits, 1 <= k <= 9. */
static uint32_t
digits(struct vg_gen *g, int k)
{
	uint32_t range = 1;

	while (k-- > 0)
		range *= 10;
	return below(g, range);
}

/*
 * The keyed permutation of [0, 10^8) behind the subscriber digits.  Each
 * round maps (l, r) to (r, (l + F(r)) mod 10^4), which is invertible
 * whatever F is, so distinct inputs give distinct outputs.
 */
static uint32_t
permute(const struct vg_gen *g, uint32_t x)
{
	uint32_t l = x / FEISTEL_HALF, r = x % FEISTEL_HALF, t;
	int i;

	for (i = 0; i < FEISTEL_ROUNDS; i++) {
		t = (uint32_t)(fmix64(r ^ g->fkey[i]) % FEISTEL_HALF);
		t = (l + t) % FEISTEL_HALF;
		l = r;
		r = t;
	}
	return l * FEISTEL_HALF + r;
}

/* FNV-1a over s, then mixed: the Bloom filter's key. */
static uint64_t
addr_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return fmix64(h);
}

/*
 * Adds s to the set of issued addresses.  Returns 1 when s was certainly
 * new, 0 when it may have been issued before (then the set is unchanged).
 */
static int
bloom_add(struct vg_gen *g, const char *s)
{
	uint64_t h = addr_hash(s);
	uint64_t *blk = g->bloom +
	    (h >> (64 - BLOOM_LOG2_BLOCKS)) * BLOOM_BLOCK_WORDS;
	uint64_t bits = fmix64(h ^ 0x6a09e667f3bcc909ULL);
	uint64_t want[BLOOM_BLOCK_WORDS] = { 0 };
	int i, fresh = 0;

	for (i = 0; i < BLOOM_K; i++) {
		unsigned int bit = (unsigned int)(bits >> (9 * i)) & 511;

		want[bit >> 6] |= (uint64_t)1 << (bit & 63);
	}
	for (i = 0; i < BLOOM_BLOCK_WORDS; i++) {
		if ((blk[i] & want[i]) != want[i])
			fresh = 1;
	}
	if (fresh) {
		for (i = 0; i < BLOOM_BLOCK_WORDS; i++)
			blk[i] |= want[i];
	}
	return fresh;
}

struct vg_gen *
vg_gen_new(uint64_t seed)
{
	struct vg_gen *g;
	uint32_t w[NGIVENS > NCITIES ? NGIVENS : NCITIES];
	uint64_t x = seed;
	size_t i, j;
	int sex;

	_Static_assert(NGIVENS >= NSURNAMES && NGIVENS >= NPREFIXES &&
	    NGIVENS >= NMAINLAND, "scratch weight array too small");

	if ((g = calloc(1, sizeof(*g))) == NULL)
		return NULL;
	g->bloom = calloc((size_t)1 << BLOOM_LOG2_BLOCKS,
	    BLOOM_BLOCK_WORDS * sizeof(uint64_t));
	if (g->bloom == NULL) {
		free(g);
		return NULL;
	}

	for (i = 0; i < 4; i++)
		g->s[i] = splitmix64(&x);
	for (i = 0; i < FEISTEL_ROUNDS; i++)
		g->fkey[i] = splitmix64(&x);

	/* Provinces, in vg_provinces[] order, weighted by population. */
	assert(vg_nprovinces >= NMAINLAND);
	for (i = 0; i < NMAINLAND; i++) {
		w[i] = vg_provinces[i].population;
		for (j = 0; j < NELEM(gen_provinces); j++) {
			if (strcmp(gen_provinces[j].code,
			    vg_provinces[i].code) == 0)
				g->prov_full[i] = gen_provinces[j].full;
		}
		assert(g->prov_full[i] != NULL);
	}
	cum_from(g->cum_prov, w, NMAINLAND);

	/* Cities: one contiguous run per province. */
	for (i = 0; i < NCITIES; i++) {
		for (j = 0; j < NMAINLAND; j++) {
			if (strcmp(gen_cities[i].code,
			    vg_provinces[j].code) == 0)
				break;
		}
		assert(j < NMAINLAND);
		if (g->city_count[j] == 0)
			g->city_first[j] = (uint16_t)i;
		assert(g->city_first[j] + g->city_count[j] == i);
		g->city_count[j]++;
		w[i] = gen_cities[i].w;
	}
	for (j = 0; j < NMAINLAND; j++) {
		assert(g->city_count[j] > 0);
		cum_from(g->cum_city + g->city_first[j],
		    w + g->city_first[j], g->city_count[j]);
	}

	for (i = 0; i < NSURNAMES; i++)
		w[i] = gen_surnames[i].w;
	cum_from(g->cum_sur, w, NSURNAMES);

	for (sex = 0; sex < 2; sex++) {
		unsigned int want = sex == 0 ? GEN_M : GEN_F;

		for (i = 0; i < NGIVENS; i++)
			w[i] = gen_givens[i].flags & want ? gen_givens[i].w : 0;
		cum_from(g->cum_given[sex], w, NGIVENS);
		for (i = 0; i < NGIVENS; i++) {
			if (!(gen_givens[i].flags & GEN_SOLO))
				w[i] = 0;
		}
		cum_from(g->cum_solo[sex], w, NGIVENS);
	}

	for (i = 0; i < NPREFIXES; i++)
		w[i] = gen_prefixes[i].w;
	cum_from(g->cum_prefix, w, NPREFIXES);
	for (i = 0; i < NCDOMAINS; i++)
		w[i] = gen_contact_domains[i].w;
	cum_from(g->cum_cdom, w, NCDOMAINS);
	for (i = 0; i < NADOMAINS; i++)
		w[i] = gen_account_domains[i].w;
	cum_from(g->cum_adom, w, NADOMAINS);

	cum_from(g->cum_cpat, contact_pat_w, NLOCAL);
	cum_from(g->cum_apat, account_pat_w, NLOCAL);
	cum_from(g->cum_ckind, contact_kind_w, NCKIND);
	cum_from(g->cum_akind, account_kind_w, NAKIND);
	cum_from(g->cum_qqlen, qq_len_w, NELEM(qq_len_w));
	cum_from(g->cum_pfmt, phone_format_w, NFORMAT);
	return g;
}

void
vg_gen_free(struct vg_gen *g)
{
	if (g == NULL)
		return;
	free(g->bloom);
	free(g);
}

static void
make_name(struct vg_gen *g, struct person *p, struct sb *b)
{
	size_t i;
	int sex, k;

	i = pick(g, g->cum_sur, NSURNAMES);
	p->sur_zh = gen_surnames[i].zh;
	p->sur_py = gen_surnames[i].py;
	sex = (int)below(g, 2);
	p->ng = below(g, 5) == 0 ? 1 : 2;
	sb_put(b, p->sur_zh);
	for (k = 0; k < p->ng; k++) {
		if (p->ng == 1)
			i = pick(g, g->cum_solo[sex], NGIVENS);
		else {
			/* A redraw keeps GEN_LEAD characters in front. */
			do
				i = pick(g, g->cum_given[sex], NGIVENS);
			while (k == 1 && (gen_givens[i].flags & GEN_LEAD));
		}
		p->g_zh[k] = gen_givens[i].zh;
		p->g_py[k] = gen_givens[i].py;
		sb_put(b, p->g_zh[k]);
	}
	if (p->ng == 1) {
		p->g_zh[1] = "";
		p->g_py[1] = "";
	}

	/* Birth dates peak in the mid-1980s: 1962..2006, triangular. */
	p->year = 1962 + below(g, 23);
	p->year += below(g, 23);
	p->month = 1 + below(g, 12);
	p->day = 1 + below(g, 28);
}

/*
 * The subscriber digits are permute(index mod 10^8): two customers of
 * one generator never share them before the 10^8th customer, whatever
 * prefix each draws.
 */
static void
make_phone(struct vg_gen *g, struct person *p, struct sb *b)
{
	const struct gen_prefix *pf;
	const char *d = p->phone;
	struct sb pb;
	uint32_t sub;

	pf = &gen_prefixes[pick(g, g->cum_prefix, NPREFIXES)];
	p->op = pf->op;
	sub = permute(g, (uint32_t)(g->n % SUBSCRIBERS));
	sb_init(&pb, p->phone, sizeof(p->phone));
	sb_num(&pb, pf->prefix, 3);
	sb_num(&pb, sub, 8);

	switch (pick(g, g->cum_pfmt, NFORMAT)) {
	case F_SPACED:
		sb_putn(b, d, 3);
		sb_putc(b, ' ');
		sb_putn(b, d + 3, 4);
		sb_putc(b, ' ');
		sb_putn(b, d + 7, 4);
		break;
	case F_INTL_DASHED:
		sb_put(b, "+86 ");
		sb_putn(b, d, 3);
		sb_putc(b, '-');
		sb_putn(b, d + 3, 4);
		sb_putc(b, '-');
		sb_putn(b, d + 7, 4);
		break;
	case F_INTL:
		sb_put(b, "+86");
		sb_put(b, d);
		break;
	case F_0086:
		sb_put(b, "0086 ");
		sb_put(b, d);
		break;
	default:
		sb_put(b, d);
		break;
	}
}

static void
put_initials(struct sb *b, const struct person *p, int with_sur)
{
	if (with_sur)
		sb_putc(b, p->sur_py[0]);
	sb_putc(b, p->g_py[0][0]);
	if (p->ng == 2)
		sb_putc(b, p->g_py[1][0]);
}

static void
put_given(struct sb *b, const struct person *p)
{
	sb_put(b, p->g_py[0]);
	sb_put(b, p->g_py[1]);
}

/* Appends a local part of pattern pat built from p's pinyin. */
static void
put_local(struct vg_gen *g, struct sb *b, const struct person *p,
    enum local_pat pat)
{
	switch (pat) {
	case L_FULL:
		sb_put(b, p->sur_py);
		put_given(b, p);
		break;
	case L_GIVEN_SUR:
		put_given(b, p);
		sb_put(b, p->sur_py);
		break;
	case L_GIVEN_DOT_SUR:
		put_given(b, p);
		sb_putc(b, '.');
		sb_put(b, p->sur_py);
		break;
	case L_SUR_DOT_GIVEN:
		sb_put(b, p->sur_py);
		sb_putc(b, '.');
		put_given(b, p);
		break;
	case L_SUR_US_GIVEN_YY:
		sb_put(b, p->sur_py);
		sb_putc(b, '_');
		put_given(b, p);
		sb_num(b, below(g, 2) ? p->year % 100 : digits(g, 2), 2);
		break;
	case L_INIT_YEAR:
		put_initials(b, p, 1);
		sb_num(b, p->year, 4);
		break;
	case L_FULL_YEAR:
		sb_put(b, p->sur_py);
		put_given(b, p);
		sb_num(b, p->year, 4);
		break;
	case L_FULL_LUCKY:
		sb_put(b, p->sur_py);
		put_given(b, p);
		if (below(g, 2))
			sb_put(b, gen_lucky[below(g, NELEM(gen_lucky))]);
		else
			sb_num(b, digits(g, 3), 3);
		break;
	case L_FULL_MMDD:
		sb_put(b, p->sur_py);
		put_given(b, p);
		sb_num(b, p->month, 2);
		sb_num(b, p->day, 2);
		break;
	case L_SUR_GINIT_DIGITS:
		sb_put(b, p->sur_py);
		put_initials(b, p, 0);
		if (below(g, 3) != 0)
			sb_num(b, digits(g, 2 + (int)below(g, 3)), 2);
		break;
	case L_INIT_DIGITS:
		put_initials(b, p, 1);
		sb_num(b, digits(g, 3 + (int)below(g, 4)), 3);
		break;
	case L_GIVEN_DOT_SUR_YEAR:
		put_given(b, p);
		sb_putc(b, '.');
		sb_put(b, p->sur_py);
		sb_num(b, p->year, 4);
		break;
	case L_SUR_GINIT_US_YEAR:
		sb_put(b, p->sur_py);
		put_initials(b, p, 0);
		sb_putc(b, '_');
		sb_num(b, p->year, 4);
		break;
	case L_GIVEN_SUR_DIGITS:
		put_given(b, p);
		sb_put(b, p->sur_py);
		sb_num(b, digits(g, 2 + (int)below(g, 3)), 2);
		break;
	default:
		assert(0);
		break;
	}
}

/* Appends a QQ number: 5 to 11 digits, the first not zero. */
static void
put_qq(struct vg_gen *g, struct sb *b)
{
	int len = QQ_MINLEN + (int)pick(g, g->cum_qqlen, NELEM(qq_len_w));
	int rest = len - 1;

	/* Ten-digit QQ numbers are below 4,000,000,000. */
	sb_num(b, 1 + below(g, len == 10 ? 3 : 9), 1);
	if (rest > 9) {
		sb_num(b, digits(g, rest - 9), rest - 9);
		rest = 9;
	}
	sb_num(b, digits(g, rest), rest);
}

static void
make_contact(struct vg_gen *g, const struct person *p, struct sb *b)
{
	int tries;

	for (tries = 0; tries < MAX_TRIES; tries++) {
		b->len = 0;
		switch (pick(g, g->cum_ckind, NCKIND)) {
		case C_QQ:
			put_qq(g, b);
			sb_put(b, "@qq.com");
			break;
		case C_PHONE:
			/* China Mobile's 139 mailbox, otherwise NetEase. */
			sb_put(b, p->phone);
			sb_put(b, p->op == GEN_CM ? "@139.com" : "@163.com");
			break;
		default:
			put_local(g, b, p, (enum local_pat)pick(g, g->cum_cpat,
			    NLOCAL));
			sb_putc(b, '@');
			sb_put(b, gen_contact_domains[pick(g, g->cum_cdom,
			    NCDOMAINS)].name);
			break;
		}
		if (bloom_add(g, b->p))
			return;
	}
	/* Only this customer's phone makes a numeric local part here. */
	b->len = 0;
	sb_put(b, p->phone);
	sb_put(b, "@163.com");
	(void)bloom_add(g, b->p);
}

static void
make_account(struct vg_gen *g, const struct person *p, const char *email,
    struct sb *b)
{
	int tries;

	for (tries = 0; tries < MAX_TRIES; tries++) {
		b->len = 0;
		switch (pick(g, g->cum_akind, NAKIND)) {
		case A_REUSE:
			sb_put(b, email);
			return;
		case A_QQ:
			put_qq(g, b);
			sb_put(b, "@qq.com");
			break;
		default:
			put_local(g, b, p, (enum local_pat)pick(g, g->cum_apat,
			    NLOCAL));
			sb_putc(b, '@');
			sb_put(b, gen_account_domains[pick(g, g->cum_adom,
			    NADOMAINS)].name);
			break;
		}
		if (bloom_add(g, b->p))
			return;
	}
	/* No other draw puts a numeric local part at icloud.com. */
	b->len = 0;
	sb_put(b, p->phone);
	sb_put(b, "@icloud.com");
	(void)bloom_add(g, b->p);
}

static void
make_address(struct vg_gen *g, size_t prov, struct sb *b)
{
	const struct gen_city *city;
	size_t ci, nd;
	uint32_t r;

	ci = g->city_first[prov] + pick(g, g->cum_city + g->city_first[prov],
	    g->city_count[prov]);
	city = &gen_cities[ci];
	for (nd = 0; nd < GEN_MAXDIST && city->dist[nd] != NULL; nd++)
		continue;
	sb_put(b, g->prov_full[prov]);
	sb_put(b, city->name);
	sb_put(b, city->dist[below(g, (uint32_t)nd)]);

	sb_put(b, gen_roads[below(g, NELEM(gen_roads))]);
	r = below(g, 100);
	if (r < 85) {
		if (below(g, 4) == 0)
			sb_put(b, gen_road_dirs[below(g,
			    NELEM(gen_road_dirs))]);
		sb_put(b, "路");
	} else if (r < 95)
		sb_put(b, "街");
	else
		sb_put(b, "大道");

	r = below(g, 100);
	sb_num(b, 1 + below(g, r < 70 ? 200 : r < 95 ? 600 : 999), 1);
	sb_put(b, "号");

	r = below(g, 100);
	if (r < 45)
		return;
	if (r < 90) {
		if (r < 75)
			sb_put(b, gen_estates[below(g, NELEM(gen_estates))]);
		sb_num(b, 1 + below(g, 30), 1);
		r = below(g, 100);
		sb_put(b, r < 60 ? "栋" : r < 75 ? "幢" : "号楼");
		if (below(g, 5) != 0) {
			sb_num(b, 1 + below(g, 6), 1);
			sb_put(b, "单元");
		}
	}
	/* Separate statements: the order of draws must not be unspecified. */
	r = 1 + below(g, below(g, 10) < 7 ? 18 : 33);
	sb_num(b, r * 100 + 1 + below(g, 4), 3);
	sb_put(b, "室");
}

void
vg_gen_next(struct vg_gen *g, struct vg_gen_customer *c)
{
	struct person p;
	struct sb b;
	size_t prov;

	prov = pick(g, g->cum_prov, NMAINLAND);

	sb_init(&b, c->name, sizeof(c->name));
	make_name(g, &p, &b);
	sb_init(&b, c->phone, sizeof(c->phone));
	make_phone(g, &p, &b);
	sb_init(&b, c->email, sizeof(c->email));
	make_contact(g, &p, &b);
	sb_init(&b, c->account_id, sizeof(c->account_id));
	make_account(g, &p, c->email, &b);
	sb_init(&b, c->address, sizeof(c->address));
	make_address(g, prov, &b);
	sb_init(&b, c->region, sizeof(c->region));
	sb_put(&b, vg_provinces[prov].code);

	g->n++;
}

/* Appends s as one RFC 4180 field: quoted only when it must be. */
static void
csv_field(struct sb *b, const char *s)
{
	const char *q;

	if (strpbrk(s, ",\"\r\n") == NULL) {
		sb_put(b, s);
		return;
	}
	sb_putc(b, '"');
	while ((q = strchr(s, '"')) != NULL) {
		sb_putn(b, s, (size_t)(q - s) + 1);
		sb_putc(b, '"');
		s = q + 1;
	}
	sb_put(b, s);
	sb_putc(b, '"');
}

/*
 * Rows are built in our own buffer and written in large blocks; the
 * largest possible row (every field quoted and doubled) is under
 * CSV_ROWMAX bytes.
 */
#define CSV_BUFSZ	(1u << 18)
#define CSV_ROWMAX	4096

static int
csv_flush(FILE *fp, struct sb *b)
{
	if (b->len > 0 && fwrite(b->p, 1, b->len, fp) != b->len)
		return VG_EIO;
	b->len = 0;
	b->p[0] = '\0';
	return 0;
}

int
vg_gen_write_csv(FILE *fp, uint64_t seed, uint64_t count)
{
	struct vg_gen_customer c;
	struct vg_gen *g;
	struct sb b;
	char *buf;
	uint64_t i;
	int rc = VG_ENOMEM;

	if ((buf = malloc(CSV_BUFSZ)) == NULL)
		goto out;
	if ((g = vg_gen_new(seed)) == NULL)
		goto out_buf;
	sb_init(&b, buf, CSV_BUFSZ);
	sb_put(&b, "name,phone,email,account_id,address,region\n");
	for (i = 0; i < count; i++) {
		vg_gen_next(g, &c);
		csv_field(&b, c.name);
		sb_putc(&b, ',');
		csv_field(&b, c.phone);
		sb_putc(&b, ',');
		csv_field(&b, c.email);
		sb_putc(&b, ',');
		csv_field(&b, c.account_id);
		sb_putc(&b, ',');
		csv_field(&b, c.address);
		sb_putc(&b, ',');
		csv_field(&b, c.region);
		sb_putc(&b, '\n');
		if (b.len > CSV_BUFSZ - CSV_ROWMAX &&
		    (rc = csv_flush(fp, &b)) != 0)
			goto out_gen;
	}
	if ((rc = csv_flush(fp, &b)) != 0)
		goto out_gen;
	rc = fflush(fp) == 0 && !ferror(fp) ? 0 : VG_EIO;
out_gen:
	vg_gen_free(g);
out_buf:
	free(buf);
out:
	return rc;
}
