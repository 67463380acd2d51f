/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The containment map (vigil/contain.h): two small open-addressing
 * tables under one read-write lock, principals to their state and the
 * alerts acted on.  Both only grow with alerts, which are rare.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/contain.h"
#include "mix.h"
#include "textbuf.h"

struct pslot {
	char id[VG_PRINCIPAL_ID_MAX + 1];	/* "" free */
	struct vg_contain_state st;
};

struct vg_contain_map {
	pthread_rwlock_t lock;
	struct pslot *p;
	size_t pcap, pn;
	char (*acted)[VG_ALERT_ID_MAX];	/* "" free */
	size_t acap, an;
};

int
vg_contain_new(struct vg_contain_map **out)
{
	struct vg_contain_map *m = calloc(1, sizeof(*m));

	*out = NULL;
	if (m == NULL)
		return VG_ENOMEM;
	m->pcap = 64;
	m->acap = 64;
	m->p = calloc(m->pcap, sizeof(*m->p));
	m->acted = calloc(m->acap, sizeof(*m->acted));
	if (m->p == NULL || m->acted == NULL ||
	    pthread_rwlock_init(&m->lock, NULL) != 0) {
		free(m->p);
		free(m->acted);
		free(m);
		return VG_ENOMEM;
	}
	*out = m;
	return 0;
}

void
vg_contain_free(struct vg_contain_map *m)
{
	if (m == NULL)
		return;
	pthread_rwlock_destroy(&m->lock);
	free(m->p);
	free(m->acted);
	free(m);
}

/* The slot of id in p[0..cap) (free or holding id). */
static struct pslot *
pfind(struct pslot *p, size_t cap, const char *id)
{
	size_t j = str_hash(id) & (cap - 1);

	while (p[j].id[0] != '\0' && strcmp(p[j].id, id) != 0)
		j = (j + 1) & (cap - 1);
	return &p[j];
}

static char *
afind(char (*a)[VG_ALERT_ID_MAX], size_t cap, const char *id)
{
	size_t j = str_hash(id) & (cap - 1);

	while (a[j][0] != '\0' && strcmp(a[j], id) != 0)
		j = (j + 1) & (cap - 1);
	return a[j];
}

/* Under the write lock. */
static int
pgrow(struct vg_contain_map *m)
{
	size_t cap = m->pcap * 2, i;
	struct pslot *np;

	if ((m->pn + 1) * 2 <= m->pcap)
		return 0;
	if ((np = calloc(cap, sizeof(*np))) == NULL)
		return VG_ENOMEM;
	for (i = 0; i < m->pcap; i++)
		if (m->p[i].id[0] != '\0')
			*pfind(np, cap, m->p[i].id) = m->p[i];
	free(m->p);
	m->p = np;
	m->pcap = cap;
	return 0;
}

static int
agrow(struct vg_contain_map *m)
{
	size_t cap = m->acap * 2, i;
	char (*na)[VG_ALERT_ID_MAX];

	if ((m->an + 1) * 2 <= m->acap)
		return 0;
	if ((na = calloc(cap, sizeof(*na))) == NULL)
		return VG_ENOMEM;
	for (i = 0; i < m->acap; i++)
		if (m->acted[i][0] != '\0')
			memcpy(afind(na, cap, m->acted[i]), m->acted[i],
			    VG_ALERT_ID_MAX);
	free(m->acted);
	m->acted = na;
	m->acap = cap;
	return 0;
}


void
vg_contain_get(struct vg_contain_map *m, const char *principal,
    struct vg_contain_state *out)
{
	struct pslot *s;

	memset(out, 0, sizeof(*out));
	if (strlen(principal) > VG_PRINCIPAL_ID_MAX || principal[0] == '\0')
		return;
	pthread_rwlock_rdlock(&m->lock);
	s = pfind(m->p, m->pcap, principal);
	if (s->id[0] != '\0')
		*out = s->st;
	pthread_rwlock_unlock(&m->lock);
}

int
vg_contain_set(struct vg_contain_map *m, const char *principal,
    enum vg_contain level, const char *alert, int64_t since_ns)
{
	struct pslot *s;
	char *a;
	int rc = 0;

	if (strlen(principal) > VG_PRINCIPAL_ID_MAX || principal[0] == '\0' ||
	    level < VG_CONTAIN_NONE || level > VG_CONTAIN_SUSPEND)
		return VG_EINVAL;
	pthread_rwlock_wrlock(&m->lock);
	if (alert != NULL && alert[0] != '\0') {
		if ((rc = agrow(m)) != 0)
			goto out;
		a = afind(m->acted, m->acap, alert);
		if (a[0] == '\0') {
			copy_str(a, VG_ALERT_ID_MAX, alert);
			m->an++;
		}
	}
	if ((rc = pgrow(m)) != 0)
		goto out;
	s = pfind(m->p, m->pcap, principal);
	if (s->id[0] == '\0') {
		copy_str(s->id, sizeof(s->id), principal);
		m->pn++;
	}
	if (level >= s->st.level) {
		s->st.level = level;
		copy_str(s->st.alert, sizeof(s->st.alert), alert != NULL ? alert :
		    "");
		s->st.since_ns = since_ns;
	}
out:
	pthread_rwlock_unlock(&m->lock);
	return rc;
}

void
vg_contain_clear(struct vg_contain_map *m, const char *principal)
{
	struct pslot *s;

	if (strlen(principal) > VG_PRINCIPAL_ID_MAX || principal[0] == '\0')
		return;
	pthread_rwlock_wrlock(&m->lock);
	s = pfind(m->p, m->pcap, principal);
	if (s->id[0] != '\0')
		memset(&s->st, 0, sizeof(s->st));	/* the slot stays */
	pthread_rwlock_unlock(&m->lock);
}

bool
vg_contain_acted(struct vg_contain_map *m, const char *alert)
{
	bool r;

	pthread_rwlock_rdlock(&m->lock);
	r = afind(m->acted, m->acap, alert)[0] != '\0';
	pthread_rwlock_unlock(&m->lock);
	return r;
}

size_t
vg_contain_count(struct vg_contain_map *m)
{
	size_t i, n = 0;

	pthread_rwlock_rdlock(&m->lock);
	for (i = 0; i < m->pcap; i++)
		n += m->p[i].id[0] != '\0' &&
		    m->p[i].st.level != VG_CONTAIN_NONE;
	pthread_rwlock_unlock(&m->lock);
	return n;
}

void
vg_contain_detail(char *buf, size_t cap, const char *principal,
    enum vg_contain level, const char *alert)
{
	snprintf(buf, cap, "target=%.64s,level=%s,alert=%.23s", principal,
	    vg_contain_name(level) != NULL ? vg_contain_name(level) : "none",
	    alert);
}

/* The value of key in a comma list of key=value words, into out. */
static int
get(const char *detail, const char *key, char *out, size_t cap)
{
	size_t kl = strlen(key);
	const char *s = detail;

	while (*s != '\0') {
		size_t n = strcspn(s, ", ");

		if (n > kl && memcmp(s, key, kl) == 0 && s[kl] == '=') {
			size_t vl = n - kl - 1;

			if (vl >= cap)
				return 0;
			memcpy(out, s + kl + 1, vl);
			out[vl] = '\0';
			return 1;
		}
		s += n;
		while (*s == ',' || *s == ' ')
			s++;
	}
	return 0;
}

int
vg_contain_fold(struct vg_contain_map *m, const struct vg_audit_record *rec)
{
	char who[VG_PRINCIPAL_ID_MAX + 1], lv[16], al[VG_ALERT_ID_MAX];

	if (strcmp(rec->decision, "allow") != 0)
		return 0;
	if (strcmp(rec->action, "detect.contain") == 0) {
		int level;

		if (!get(rec->detail, "target", who, sizeof(who)) ||
		    !get(rec->detail, "level", lv, sizeof(lv)) ||
		    !get(rec->detail, "alert", al, sizeof(al)))
			return 0;
		level = (int)vg_contain_from_name(lv);
		if (level <= VG_CONTAIN_NONE)
			return 0;
		return vg_contain_set(m, who, (enum vg_contain)level, al,
		    rec->time_ns) == VG_ENOMEM ? VG_ENOMEM : 0;
	}
	if (strcmp(rec->action, "principal.reinstate") == 0 &&
	    (get(rec->detail, "target", who, sizeof(who)) ||
	    get(rec->detail, "principal", who, sizeof(who)))) {
		struct vg_contain_state cur;

		/* A reinstate lifts what was in force when it was made, not a
		 * containment of later (another chain's entries may be read
		 * after this node's newer ones). */
		vg_contain_get(m, who, &cur);
		if (cur.level != VG_CONTAIN_NONE && cur.since_ns <= rec->time_ns)
			vg_contain_clear(m, who);
	}
	return 0;
}
