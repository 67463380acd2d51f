/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The province table: ISO 3166-2:CN codes, names, and 2020 census
 * populations (thousands), used to validate the region field and to
 * weight synthetic customers.  Mainland provinces come first.
 */
#include <string.h>

#include "vigil/region.h"

const struct vg_province vg_provinces[] = {
	{ "CN-GD", "广东", "Guangdong", 126010 },
	{ "CN-SD", "山东", "Shandong", 101530 },
	{ "CN-HA", "河南", "Henan", 99370 },
	{ "CN-JS", "江苏", "Jiangsu", 84750 },
	{ "CN-SC", "四川", "Sichuan", 83670 },
	{ "CN-HE", "河北", "Hebei", 74610 },
	{ "CN-HN", "湖南", "Hunan", 66440 },
	{ "CN-ZJ", "浙江", "Zhejiang", 64570 },
	{ "CN-AH", "安徽", "Anhui", 61030 },
	{ "CN-HB", "湖北", "Hubei", 57750 },
	{ "CN-GX", "广西", "Guangxi", 50130 },
	{ "CN-YN", "云南", "Yunnan", 47210 },
	{ "CN-JX", "江西", "Jiangxi", 45190 },
	{ "CN-LN", "辽宁", "Liaoning", 42590 },
	{ "CN-FJ", "福建", "Fujian", 41540 },
	{ "CN-SN", "陕西", "Shaanxi", 39530 },
	{ "CN-GZ", "贵州", "Guizhou", 38560 },
	{ "CN-SX", "山西", "Shanxi", 34920 },
	{ "CN-CQ", "重庆", "Chongqing", 32050 },
	{ "CN-HL", "黑龙江", "Heilongjiang", 31850 },
	{ "CN-XJ", "新疆", "Xinjiang", 25850 },
	{ "CN-GS", "甘肃", "Gansu", 25020 },
	{ "CN-SH", "上海", "Shanghai", 24870 },
	{ "CN-JL", "吉林", "Jilin", 24070 },
	{ "CN-NM", "内蒙古", "Inner Mongolia", 24050 },
	{ "CN-BJ", "北京", "Beijing", 21890 },
	{ "CN-TJ", "天津", "Tianjin", 13870 },
	{ "CN-HI", "海南", "Hainan", 10080 },
	{ "CN-NX", "宁夏", "Ningxia", 7200 },
	{ "CN-QH", "青海", "Qinghai", 5920 },
	{ "CN-XZ", "西藏", "Tibet", 3650 },
	/* Not mainland: valid regions, never generated. */
	{ "CN-TW", "台湾", "Taiwan", 23560 },
	{ "CN-HK", "香港", "Hong Kong", 7470 },
	{ "CN-MO", "澳门", "Macao", 680 },
};

const size_t vg_nprovinces = sizeof(vg_provinces) / sizeof(vg_provinces[0]);

static int
eq_nocase(const char *a, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)s[i];

		if (x == '\0')
			return 0;
		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y - 'A' + 'a');
		if (x != y)
			return 0;
	}
	return a[len] == '\0';
}

const struct vg_province *
vg_province_find(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < vg_nprovinces; i++) {
		const struct vg_province *p = &vg_provinces[i];

		if (eq_nocase(p->code, s, len) || eq_nocase(p->code + 3, s, len) ||
		    eq_nocase(p->name_zh, s, len) || eq_nocase(p->name_en, s, len))
			return p;
	}
	return NULL;
}
