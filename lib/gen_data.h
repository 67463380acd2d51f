/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Data tables for the synthetic customer generator in gen.c: surnames,
 * given-name characters with their pinyin, cities and districts, road and
 * estate names, mobile prefixes and e-mail domains.  Every weight is an
 * integer; gen.c turns each table into a cumulative table once per
 * generator.  The sources of the weights are described in
 * docs/internals/gen.md.  This header is included by gen.c only.
 *
 * Changing any table changes the generated customers, and therefore the
 * golden hash in tests/unit/t_gen.c.
 */
#ifndef VIGIL_GEN_DATA_H
#define VIGIL_GEN_DATA_H

#include <stddef.h>
#include <stdint.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Surnames with toneless pinyin (ü written "v") and weights in units of
 * about 1/100,000 of the population.  Roughly the Ministry of Public
 * Security ranking (2019-2020): the top twenty are close to published
 * shares, the tail is smoothed.  The compound surnames at the end are rare.
 */
struct gen_surname {
	const char *zh;
	const char *py;
	uint32_t w;
};

static const struct gen_surname gen_surnames[] = {
	{ "王", "wang", 7100 }, { "李", "li", 7000 }, { "张", "zhang", 6700 },
	{ "刘", "liu", 5300 }, { "陈", "chen", 4500 }, { "杨", "yang", 3300 },
	{ "黄", "huang", 2300 }, { "赵", "zhao", 2000 }, { "吴", "wu", 1900 },
	{ "周", "zhou", 1900 }, { "徐", "xu", 1400 }, { "孙", "sun", 1400 },
	{ "马", "ma", 1300 }, { "胡", "hu", 1100 }, { "朱", "zhu", 1100 },
	{ "郭", "guo", 1100 }, { "何", "he", 1000 }, { "罗", "luo", 900 },
	{ "高", "gao", 900 }, { "林", "lin", 900 }, { "郑", "zheng", 800 },
	{ "梁", "liang", 700 }, { "谢", "xie", 700 }, { "唐", "tang", 600 },
	{ "宋", "song", 600 }, { "许", "xu", 600 }, { "韩", "han", 500 },
	{ "邓", "deng", 500 }, { "冯", "feng", 500 }, { "曹", "cao", 500 },
	{ "彭", "peng", 500 }, { "曾", "zeng", 500 }, { "肖", "xiao", 500 },
	{ "田", "tian", 400 }, { "董", "dong", 400 }, { "潘", "pan", 400 },
	{ "袁", "yuan", 400 }, { "蔡", "cai", 400 }, { "蒋", "jiang", 400 },
	{ "余", "yu", 400 }, { "于", "yu", 400 }, { "杜", "du", 400 },
	{ "叶", "ye", 400 }, { "程", "cheng", 300 }, { "魏", "wei", 300 },
	{ "苏", "su", 300 }, { "吕", "lv", 300 }, { "丁", "ding", 300 },
	{ "任", "ren", 300 }, { "卢", "lu", 300 }, { "姚", "yao", 300 },
	{ "沈", "shen", 300 }, { "钟", "zhong", 300 }, { "姜", "jiang", 300 },
	{ "崔", "cui", 300 }, { "谭", "tan", 300 }, { "陆", "lu", 300 },
	{ "范", "fan", 200 }, { "汪", "wang", 200 }, { "廖", "liao", 200 },
	{ "石", "shi", 200 }, { "金", "jin", 200 }, { "韦", "wei", 200 },
	{ "贾", "jia", 200 }, { "夏", "xia", 200 }, { "付", "fu", 200 },
	{ "方", "fang", 200 }, { "邹", "zou", 200 }, { "熊", "xiong", 200 },
	{ "白", "bai", 200 }, { "孟", "meng", 200 }, { "秦", "qin", 200 },
	{ "邱", "qiu", 200 }, { "侯", "hou", 200 }, { "江", "jiang", 200 },
	{ "尹", "yin", 200 }, { "薛", "xue", 200 }, { "闫", "yan", 200 },
	{ "段", "duan", 150 }, { "雷", "lei", 150 }, { "龙", "long", 150 },
	{ "黎", "li", 150 }, { "史", "shi", 150 }, { "陶", "tao", 150 },
	{ "贺", "he", 150 }, { "毛", "mao", 150 }, { "郝", "hao", 150 },
	{ "顾", "gu", 150 }, { "龚", "gong", 150 }, { "邵", "shao", 150 },
	{ "万", "wan", 150 }, { "覃", "qin", 120 }, { "武", "wu", 120 },
	{ "钱", "qian", 120 }, { "戴", "dai", 120 }, { "严", "yan", 120 },
	{ "莫", "mo", 120 }, { "孔", "kong", 120 }, { "向", "xiang", 120 },
	{ "常", "chang", 120 }, { "汤", "tang", 120 }, { "康", "kang", 100 },
	{ "易", "yi", 100 }, { "乔", "qiao", 100 }, { "赖", "lai", 100 },
	{ "文", "wen", 100 },
	/* Compound surnames. */
	{ "欧阳", "ouyang", 30 }, { "司徒", "situ", 4 }, { "司马", "sima", 4 },
	{ "上官", "shangguan", 3 }, { "诸葛", "zhuge", 3 },
	{ "东方", "dongfang", 2 }, { "皇甫", "huangfu", 2 },
	{ "慕容", "murong", 1 }, { "令狐", "linghu", 1 },
	{ "夏侯", "xiahou", 1 },
};

/*
 * Given-name characters with pinyin, flags and a relative weight.  The
 * flags say which sexes use the character (GEN_M, GEN_F or both), whether
 * it is common as a one-character given name (GEN_SOLO: 张伟, 王芳) and
 * whether it only begins a two-character given name (GEN_LEAD: 小明, never
 * 明小 or a bare 小).  Polyphonic characters whose reading in names is
 * ambiguous (乐, 单, 长) are left out so that every name has one pinyin.
 */
#define GEN_M		1
#define GEN_F		2
#define GEN_MF		3
#define GEN_LEAD	4
#define GEN_SOLO	8

struct gen_given {
	const char *zh;
	const char *py;
	uint8_t flags;
	uint8_t w;
};

static const struct gen_given gen_givens[] = {
	/* Mostly male. */
	{ "伟", "wei", GEN_M | GEN_SOLO, 10 },
	{ "强", "qiang", GEN_M | GEN_SOLO, 6 },
	{ "磊", "lei", GEN_M | GEN_SOLO, 6 },
	{ "军", "jun", GEN_M | GEN_SOLO, 6 },
	{ "勇", "yong", GEN_M | GEN_SOLO, 5 },
	{ "杰", "jie", GEN_M | GEN_SOLO, 7 },
	{ "涛", "tao", GEN_M | GEN_SOLO, 5 },
	{ "超", "chao", GEN_M | GEN_SOLO, 5 },
	{ "刚", "gang", GEN_M | GEN_SOLO, 4 },
	{ "辉", "hui", GEN_M | GEN_SOLO, 5 },
	{ "鹏", "peng", GEN_M | GEN_SOLO, 5 },
	{ "飞", "fei", GEN_M | GEN_SOLO, 4 },
	{ "鑫", "xin", GEN_M | GEN_SOLO, 4 },
	{ "波", "bo", GEN_M | GEN_SOLO, 4 },
	{ "斌", "bin", GEN_M | GEN_SOLO, 4 },
	{ "宇", "yu", GEN_M | GEN_SOLO, 7 },
	{ "浩", "hao", GEN_M | GEN_SOLO, 7 },
	{ "凯", "kai", GEN_M | GEN_SOLO, 5 },
	{ "健", "jian", GEN_M | GEN_SOLO, 4 },
	{ "俊", "jun", GEN_M | GEN_SOLO, 5 },
	{ "帅", "shuai", GEN_M | GEN_SOLO, 3 },
	{ "旭", "xu", GEN_M | GEN_SOLO, 4 },
	{ "龙", "long", GEN_M | GEN_SOLO, 4 },
	{ "阳", "yang", GEN_M | GEN_SOLO, 5 },
	{ "峰", "feng", GEN_M | GEN_SOLO, 4 }, { "建", "jian", GEN_M, 5 },
	{ "国", "guo", GEN_M, 5 }, { "志", "zhi", GEN_M, 5 },
	{ "海", "hai", GEN_M, 4 }, { "东", "dong", GEN_M, 4 },
	{ "亮", "liang", GEN_M | GEN_SOLO, 4 }, { "成", "cheng", GEN_M, 4 },
	{ "博", "bo", GEN_M | GEN_SOLO, 4 }, { "轩", "xuan", GEN_M, 5 },
	{ "泽", "ze", GEN_M, 5 }, { "天", "tian", GEN_M, 4 },
	{ "宏", "hong", GEN_M, 3 }, { "毅", "yi", GEN_M | GEN_SOLO, 3 },
	{ "振", "zhen", GEN_M, 3 }, { "豪", "hao", GEN_M | GEN_SOLO, 4 },
	{ "铭", "ming", GEN_M, 4 }, { "睿", "rui", GEN_M, 4 },
	{ "哲", "zhe", GEN_M, 3 }, { "航", "hang", GEN_M | GEN_SOLO, 3 },
	{ "诚", "cheng", GEN_M, 3 }, { "永", "yong", GEN_M, 3 },
	{ "光", "guang", GEN_M, 3 }, { "德", "de", GEN_M, 3 },
	{ "福", "fu", GEN_M, 2 }, { "生", "sheng", GEN_M, 3 },
	{ "荣", "rong", GEN_M, 2 }, { "山", "shan", GEN_M, 2 },
	{ "鸿", "hong", GEN_M | GEN_SOLO, 2 }, { "远", "yuan", GEN_M, 3 },
	{ "彬", "bin", GEN_M | GEN_SOLO, 3 },
	{ "坤", "kun", GEN_M | GEN_SOLO, 3 }, { "力", "li", GEN_M, 3 },
	{ "祥", "xiang", GEN_M, 2 }, { "武", "wu", GEN_M, 2 },
	{ "康", "kang", GEN_M | GEN_SOLO, 3 }, { "卫", "wei", GEN_M, 2 },
	{ "兵", "bing", GEN_M | GEN_SOLO, 3 }, { "松", "song", GEN_M, 2 },
	{ "良", "liang", GEN_M, 2 }, { "翔", "xiang", GEN_M | GEN_SOLO, 3 },
	{ "锋", "feng", GEN_M | GEN_SOLO, 3 },
	{ "昊", "hao", GEN_M | GEN_SOLO, 3 }, { "宸", "chen", GEN_M, 2 },
	{ "骏", "jun", GEN_M, 2 }, { "恒", "heng", GEN_M, 3 },
	{ "虎", "hu", GEN_M, 2 }, { "森", "sen", GEN_M, 2 },
	{ "煜", "yu", GEN_M, 2 }, { "锐", "rui", GEN_M, 2 },
	{ "启", "qi", GEN_M, 2 }, { "正", "zheng", GEN_M, 2 },
	{ "庆", "qing", GEN_M, 2 }, { "民", "min", GEN_M, 2 },
	{ "江", "jiang", GEN_M, 2 }, { "金", "jin", GEN_M, 2 },
	{ "栋", "dong", GEN_M, 2 }, { "伦", "lun", GEN_M, 2 },
	{ "彪", "biao", GEN_M, 1 }, { "洪", "hong", GEN_M, 1 },
	{ "铁", "tie", GEN_M, 1 }, { "峻", "jun", GEN_M, 1 },
	{ "崇", "chong", GEN_M, 1 }, { "杭", "hang", GEN_M, 1 },
	{ "宾", "bin", GEN_M, 1 }, { "泉", "quan", GEN_M, 2 },
	{ "猛", "meng", GEN_M, 1 }, { "奇", "qi", GEN_M, 2 },
	{ "继", "ji", GEN_M, 2 }, { "胜", "sheng", GEN_M, 2 },
	{ "义", "yi", GEN_M, 2 },
	/* Mostly female. */
	{ "芳", "fang", GEN_F | GEN_SOLO, 8 },
	{ "娜", "na", GEN_F | GEN_SOLO, 7 },
	{ "敏", "min", GEN_F | GEN_SOLO, 6 },
	{ "静", "jing", GEN_F | GEN_SOLO, 7 },
	{ "丽", "li", GEN_F | GEN_SOLO, 7 },
	{ "艳", "yan", GEN_F | GEN_SOLO, 6 }, { "秀", "xiu", GEN_F, 5 },
	{ "英", "ying", GEN_F | GEN_SOLO, 5 },
	{ "燕", "yan", GEN_F | GEN_SOLO, 5 },
	{ "玲", "ling", GEN_F | GEN_SOLO, 5 },
	{ "霞", "xia", GEN_F | GEN_SOLO, 5 },
	{ "婷", "ting", GEN_F | GEN_SOLO, 6 },
	{ "雪", "xue", GEN_F | GEN_SOLO, 5 },
	{ "慧", "hui", GEN_F | GEN_SOLO, 5 },
	{ "琳", "lin", GEN_F | GEN_SOLO, 5 },
	{ "颖", "ying", GEN_F | GEN_SOLO, 5 },
	{ "倩", "qian", GEN_F | GEN_SOLO, 5 },
	{ "洁", "jie", GEN_F | GEN_SOLO, 4 },
	{ "梅", "mei", GEN_F | GEN_SOLO, 4 },
	{ "莉", "li", GEN_F | GEN_SOLO, 4 },
	{ "晶", "jing", GEN_F | GEN_SOLO, 4 },
	{ "红", "hong", GEN_F | GEN_SOLO, 4 },
	{ "兰", "lan", GEN_F | GEN_SOLO, 4 },
	{ "萍", "ping", GEN_F | GEN_SOLO, 4 },
	{ "璐", "lu", GEN_F | GEN_SOLO, 3 },
	{ "瑶", "yao", GEN_F | GEN_SOLO, 4 },
	{ "怡", "yi", GEN_F | GEN_SOLO, 4 },
	{ "琪", "qi", GEN_F | GEN_SOLO, 4 },
	{ "雅", "ya", GEN_F | GEN_SOLO, 4 },
	{ "婧", "jing", GEN_F | GEN_SOLO, 3 },
	{ "媛", "yuan", GEN_F | GEN_SOLO, 3 },
	{ "悦", "yue", GEN_F | GEN_SOLO, 4 },
	{ "晴", "qing", GEN_F | GEN_SOLO, 3 },
	{ "涵", "han", GEN_F | GEN_SOLO, 5 }, { "诗", "shi", GEN_F, 4 },
	{ "梦", "meng", GEN_F, 4 }, { "萱", "xuan", GEN_F, 4 },
	{ "馨", "xin", GEN_F, 4 }, { "彤", "tong", GEN_F, 3 },
	{ "妍", "yan", GEN_F, 3 }, { "欢", "huan", GEN_F, 3 },
	{ "蕾", "lei", GEN_F | GEN_SOLO, 3 },
	{ "薇", "wei", GEN_F | GEN_SOLO, 3 }, { "凤", "feng", GEN_F, 3 },
	{ "珍", "zhen", GEN_F, 2 }, { "玉", "yu", GEN_F, 3 },
	{ "桂", "gui", GEN_F, 2 }, { "翠", "cui", GEN_F, 2 },
	{ "淑", "shu", GEN_F, 2 }, { "惠", "hui", GEN_F, 2 },
	{ "丹", "dan", GEN_F | GEN_SOLO, 4 },
	{ "露", "lu", GEN_F | GEN_SOLO, 3 },
	{ "珊", "shan", GEN_F | GEN_SOLO, 3 }, { "岚", "lan", GEN_F, 2 },
	{ "茜", "qian", GEN_F, 2 }, { "蓉", "rong", GEN_F, 2 },
	{ "菲", "fei", GEN_F | GEN_SOLO, 3 }, { "芬", "fen", GEN_F, 2 },
	{ "琴", "qin", GEN_F | GEN_SOLO, 3 },
	{ "莹", "ying", GEN_F | GEN_SOLO, 3 },
	{ "雯", "wen", GEN_F | GEN_SOLO, 3 }, { "佩", "pei", GEN_F, 2 },
	{ "玥", "yue", GEN_F, 2 }, { "婉", "wan", GEN_F, 2 },
	{ "嫣", "yan", GEN_F, 1 }, { "曦", "xi", GEN_F, 2 },
	{ "沫", "mo", GEN_F, 2 }, { "汐", "xi", GEN_F, 1 },
	{ "娟", "juan", GEN_F | GEN_SOLO, 4 }, { "甜", "tian", GEN_F, 2 },
	{ "美", "mei", GEN_F, 3 }, { "秋", "qiu", GEN_F, 2 },
	{ "亚", "ya", GEN_F, 2 }, { "妮", "ni", GEN_F, 2 },
	{ "蓓", "bei", GEN_F, 1 }, { "虹", "hong", GEN_F, 2 },
	{ "霏", "fei", GEN_F, 1 }, { "黛", "dai", GEN_F, 1 },
	{ "韵", "yun", GEN_F, 2 }, { "姗", "shan", GEN_F, 1 },
	{ "瑾", "jin", GEN_F, 2 }, { "琦", "qi", GEN_F, 2 },
	{ "菁", "jing", GEN_F, 1 }, { "娇", "jiao", GEN_F, 2 },
	{ "蕊", "rui", GEN_F, 2 }, { "芸", "yun", GEN_F, 2 },
	{ "柔", "rou", GEN_F, 1 }, { "苗", "miao", GEN_F, 1 },
	{ "婕", "jie", GEN_F, 1 }, { "语", "yu", GEN_F, 3 },
	{ "紫", "zi", GEN_F, 2 },
	/* Used for both. */
	{ "明", "ming", GEN_MF | GEN_SOLO, 5 },
	{ "华", "hua", GEN_MF | GEN_SOLO, 5 },
	{ "平", "ping", GEN_MF | GEN_SOLO, 4 },
	{ "文", "wen", GEN_MF | GEN_SOLO, 5 },
	{ "林", "lin", GEN_MF | GEN_SOLO, 4 },
	{ "晨", "chen", GEN_MF, 5 }, { "子", "zi", GEN_MF, 6 },
	{ "思", "si", GEN_MF, 5 }, { "佳", "jia", GEN_MF, 6 },
	{ "欣", "xin", GEN_MF, 6 },
	{ "嘉", "jia", GEN_MF, 4 },
	{ "宁", "ning", GEN_MF | GEN_SOLO, 3 }, { "雨", "yu", GEN_MF, 5 },
	{ "一", "yi", GEN_MF | GEN_LEAD, 4 }, { "可", "ke", GEN_MF, 3 },
	{ "心", "xin", GEN_MF, 2 }, { "安", "an", GEN_MF, 3 },
	{ "云", "yun", GEN_MF | GEN_SOLO, 3 }, { "晓", "xiao", GEN_MF, 5 },
	{ "小", "xiao", GEN_MF | GEN_LEAD, 4 }, { "春", "chun", GEN_MF, 3 },
	{ "清", "qing", GEN_MF, 2 }, { "新", "xin", GEN_MF, 2 },
	{ "楠", "nan", GEN_MF | GEN_SOLO, 3 }, { "钰", "yu", GEN_MF, 3 },
	{ "梓", "zi", GEN_MF, 4 }, { "艺", "yi", GEN_MF, 3 },
	{ "冰", "bing", GEN_MF | GEN_SOLO, 2 },
	{ "月", "yue", GEN_MF | GEN_SOLO, 3 }, { "立", "li", GEN_MF, 2 },
	{ "青", "qing", GEN_MF, 2 }, { "瑞", "rui", GEN_MF | GEN_SOLO, 3 },
	{ "逸", "yi", GEN_MF, 3 }, { "依", "yi", GEN_MF, 3 },
	{ "若", "ruo", GEN_MF, 2 }, { "诺", "nuo", GEN_MF, 2 },
	{ "家", "jia", GEN_MF, 3 }, { "洋", "yang", GEN_MF | GEN_SOLO, 3 },
	{ "凡", "fan", GEN_MF | GEN_SOLO, 2 },
	{ "帆", "fan", GEN_MF | GEN_SOLO, 3 },
	{ "然", "ran", GEN_MF | GEN_SOLO, 3 }, { "彦", "yan", GEN_MF, 2 },
	{ "奕", "yi", GEN_MF, 2 }, { "星", "xing", GEN_MF, 2 },
};

/*
 * Full names of the 31 mainland province-level divisions, keyed by their
 * ISO 3166-2 code: provinces end in 省, the four municipalities in 市,
 * the five autonomous regions carry their official names.
 */
struct gen_province {
	const char *code;
	const char *full;
};

static const struct gen_province gen_provinces[] = {
	{ "CN-GD", "广东省" }, { "CN-SD", "山东省" }, { "CN-HA", "河南省" },
	{ "CN-JS", "江苏省" }, { "CN-SC", "四川省" }, { "CN-HE", "河北省" },
	{ "CN-HN", "湖南省" }, { "CN-ZJ", "浙江省" }, { "CN-AH", "安徽省" },
	{ "CN-HB", "湖北省" }, { "CN-GX", "广西壮族自治区" },
	{ "CN-YN", "云南省" }, { "CN-JX", "江西省" }, { "CN-LN", "辽宁省" },
	{ "CN-FJ", "福建省" }, { "CN-SN", "陕西省" }, { "CN-GZ", "贵州省" },
	{ "CN-SX", "山西省" }, { "CN-CQ", "重庆市" }, { "CN-HL", "黑龙江省" },
	{ "CN-XJ", "新疆维吾尔自治区" }, { "CN-GS", "甘肃省" },
	{ "CN-SH", "上海市" }, { "CN-JL", "吉林省" },
	{ "CN-NM", "内蒙古自治区" }, { "CN-BJ", "北京市" },
	{ "CN-TJ", "天津市" }, { "CN-HI", "海南省" },
	{ "CN-NX", "宁夏回族自治区" }, { "CN-QH", "青海省" },
	{ "CN-XZ", "西藏自治区" },
};

/*
 * Cities and some of their real urban districts, grouped by province.
 * The four municipalities have one entry with an empty city name, so
 * that their addresses read "北京市海淀区…".  The weight is relative
 * within the province: capitals and the largest cities weigh most.
 * dist[] is NULL-terminated.
 */
#define GEN_MAXDIST 8

struct gen_city {
	const char *code;
	const char *name;
	uint8_t w;
	const char *dist[GEN_MAXDIST];
};

static const struct gen_city gen_cities[] = {
	{ "CN-GD", "广州市", 30, { "天河区", "越秀区", "海珠区", "白云区",
	    "番禺区", NULL } },
	{ "CN-GD", "深圳市", 30, { "南山区", "福田区", "罗湖区", "宝安区",
	    "龙岗区", NULL } },
	{ "CN-GD", "佛山市", 15, { "禅城区", "南海区", "顺德区", NULL } },
	{ "CN-GD", "珠海市", 5, { "香洲区", "金湾区", NULL } },
	{ "CN-GD", "汕头市", 8, { "金平区", "龙湖区", NULL } },
	{ "CN-GD", "惠州市", 8, { "惠城区", "惠阳区", NULL } },
	{ "CN-SD", "济南市", 25, { "历下区", "市中区", "槐荫区", "历城区",
	    NULL } },
	{ "CN-SD", "青岛市", 25, { "市南区", "市北区", "崂山区", "黄岛区",
	    NULL } },
	{ "CN-SD", "烟台市", 10, { "芝罘区", "莱山区", NULL } },
	{ "CN-SD", "潍坊市", 12, { "奎文区", "潍城区", NULL } },
	{ "CN-SD", "临沂市", 12, { "兰山区", "罗庄区", NULL } },
	{ "CN-HA", "郑州市", 35, { "金水区", "中原区", "二七区",
	    "管城回族区", NULL } },
	{ "CN-HA", "洛阳市", 15, { "西工区", "洛龙区", "涧西区", NULL } },
	{ "CN-HA", "南阳市", 12, { "卧龙区", "宛城区", NULL } },
	{ "CN-HA", "新乡市", 8, { "红旗区", "卫滨区", NULL } },
	{ "CN-JS", "南京市", 25, { "玄武区", "秦淮区", "鼓楼区", "建邺区",
	    NULL } },
	{ "CN-JS", "苏州市", 25, { "姑苏区", "吴中区", "虎丘区", "相城区",
	    NULL } },
	{ "CN-JS", "无锡市", 15, { "梁溪区", "滨湖区", "新吴区", NULL } },
	{ "CN-JS", "徐州市", 12, { "云龙区", "鼓楼区", NULL } },
	{ "CN-JS", "常州市", 10, { "天宁区", "钟楼区", "武进区", NULL } },
	{ "CN-SC", "成都市", 50, { "锦江区", "青羊区", "金牛区", "武侯区",
	    "成华区", NULL } },
	{ "CN-SC", "绵阳市", 10, { "涪城区", "游仙区", NULL } },
	{ "CN-SC", "南充市", 10, { "顺庆区", "高坪区", NULL } },
	{ "CN-SC", "宜宾市", 8, { "翠屏区", "叙州区", NULL } },
	{ "CN-HE", "石家庄市", 30, { "长安区", "桥西区", "新华区", "裕华区",
	    NULL } },
	{ "CN-HE", "唐山市", 20, { "路北区", "路南区", NULL } },
	{ "CN-HE", "保定市", 20, { "竞秀区", "莲池区", NULL } },
	{ "CN-HE", "邯郸市", 15, { "丛台区", "邯山区", NULL } },
	{ "CN-HN", "长沙市", 40, { "芙蓉区", "天心区", "岳麓区", "开福区",
	    "雨花区", NULL } },
	{ "CN-HN", "株洲市", 12, { "天元区", "芦淞区", NULL } },
	{ "CN-HN", "衡阳市", 12, { "雁峰区", "蒸湘区", NULL } },
	{ "CN-HN", "岳阳市", 10, { "岳阳楼区", NULL } },
	{ "CN-ZJ", "杭州市", 40, { "上城区", "拱墅区", "西湖区", "滨江区",
	    "余杭区", NULL } },
	{ "CN-ZJ", "宁波市", 25, { "海曙区", "江北区", "鄞州区", NULL } },
	{ "CN-ZJ", "温州市", 20, { "鹿城区", "瓯海区", "龙湾区", NULL } },
	{ "CN-ZJ", "金华市", 12, { "婺城区", "金东区", NULL } },
	{ "CN-AH", "合肥市", 40, { "蜀山区", "包河区", "庐阳区", "瑶海区",
	    NULL } },
	{ "CN-AH", "芜湖市", 12, { "镜湖区", "鸠江区", NULL } },
	{ "CN-AH", "蚌埠市", 10, { "蚌山区", "龙子湖区", NULL } },
	{ "CN-AH", "阜阳市", 15, { "颍州区", "颍泉区", NULL } },
	{ "CN-HB", "武汉市", 50, { "江岸区", "江汉区", "武昌区", "洪山区",
	    "汉阳区", NULL } },
	{ "CN-HB", "宜昌市", 12, { "西陵区", "伍家岗区", NULL } },
	{ "CN-HB", "襄阳市", 12, { "襄城区", "樊城区", NULL } },
	{ "CN-HB", "荆州市", 10, { "沙市区", "荆州区", NULL } },
	{ "CN-GX", "南宁市", 35, { "青秀区", "兴宁区", "西乡塘区", "江南区",
	    NULL } },
	{ "CN-GX", "柳州市", 15, { "城中区", "鱼峰区", "柳南区", NULL } },
	{ "CN-GX", "桂林市", 15, { "秀峰区", "象山区", "七星区", NULL } },
	{ "CN-GX", "玉林市", 12, { "玉州区", "福绵区", NULL } },
	{ "CN-YN", "昆明市", 45, { "五华区", "盘龙区", "官渡区", "西山区",
	    NULL } },
	{ "CN-YN", "曲靖市", 15, { "麒麟区", "沾益区", NULL } },
	{ "CN-YN", "玉溪市", 8, { "红塔区", NULL } },
	{ "CN-JX", "南昌市", 35, { "东湖区", "西湖区", "青山湖区",
	    "红谷滩区", NULL } },
	{ "CN-JX", "赣州市", 20, { "章贡区", "南康区", NULL } },
	{ "CN-JX", "九江市", 12, { "浔阳区", "濂溪区", NULL } },
	{ "CN-LN", "沈阳市", 35, { "和平区", "沈河区", "皇姑区", "铁西区",
	    NULL } },
	{ "CN-LN", "大连市", 30, { "中山区", "西岗区", "沙河口区",
	    "甘井子区", NULL } },
	{ "CN-LN", "鞍山市", 10, { "铁东区", "铁西区", NULL } },
	{ "CN-FJ", "福州市", 30, { "鼓楼区", "台江区", "仓山区", "晋安区",
	    NULL } },
	{ "CN-FJ", "厦门市", 25, { "思明区", "湖里区", "集美区", NULL } },
	{ "CN-FJ", "泉州市", 25, { "鲤城区", "丰泽区", "洛江区", NULL } },
	{ "CN-SN", "西安市", 55, { "新城区", "碑林区", "莲湖区", "雁塔区",
	    "未央区", NULL } },
	{ "CN-SN", "宝鸡市", 10, { "渭滨区", "金台区", NULL } },
	{ "CN-SN", "咸阳市", 12, { "秦都区", "渭城区", NULL } },
	{ "CN-GZ", "贵阳市", 40, { "南明区", "云岩区", "观山湖区",
	    "花溪区", NULL } },
	{ "CN-GZ", "遵义市", 20, { "红花岗区", "汇川区", NULL } },
	{ "CN-GZ", "六盘水市", 8, { "钟山区", NULL } },
	{ "CN-SX", "太原市", 40, { "小店区", "迎泽区", "杏花岭区",
	    "万柏林区", NULL } },
	{ "CN-SX", "大同市", 12, { "平城区", "云冈区", NULL } },
	{ "CN-SX", "长治市", 10, { "潞州区", NULL } },
	{ "CN-CQ", "", 1, { "渝中区", "江北区", "南岸区", "渝北区",
	    "沙坪坝区", "九龙坡区", NULL } },
	{ "CN-HL", "哈尔滨市", 45, { "南岗区", "道里区", "道外区", "香坊区",
	    NULL } },
	{ "CN-HL", "大庆市", 12, { "萨尔图区", "让胡路区", NULL } },
	{ "CN-HL", "齐齐哈尔市", 12, { "龙沙区", "建华区", NULL } },
	{ "CN-XJ", "乌鲁木齐市", 40, { "天山区", "沙依巴克区", "新市区",
	    "水磨沟区", NULL } },
	{ "CN-XJ", "克拉玛依市", 5, { "克拉玛依区", NULL } },
	{ "CN-GS", "兰州市", 40, { "城关区", "七里河区", "安宁区", "西固区",
	    NULL } },
	{ "CN-GS", "天水市", 12, { "秦州区", "麦积区", NULL } },
	{ "CN-SH", "", 1, { "浦东新区", "黄浦区", "徐汇区", "静安区",
	    "长宁区", "闵行区", "杨浦区", NULL } },
	{ "CN-JL", "长春市", 45, { "朝阳区", "南关区", "宽城区", "绿园区",
	    NULL } },
	{ "CN-JL", "吉林市", 15, { "船营区", "昌邑区", NULL } },
	{ "CN-NM", "呼和浩特市", 30, { "新城区", "回民区", "赛罕区",
	    NULL } },
	{ "CN-NM", "包头市", 25, { "昆都仑区", "青山区", NULL } },
	{ "CN-BJ", "", 1, { "朝阳区", "海淀区", "东城区", "西城区",
	    "丰台区", "昌平区", NULL } },
	{ "CN-TJ", "", 1, { "和平区", "河西区", "南开区", "河东区",
	    "滨海新区", NULL } },
	{ "CN-HI", "海口市", 30, { "美兰区", "龙华区", "秀英区", NULL } },
	{ "CN-HI", "三亚市", 10, { "吉阳区", "天涯区", NULL } },
	{ "CN-NX", "银川市", 30, { "兴庆区", "金凤区", "西夏区", NULL } },
	{ "CN-NX", "石嘴山市", 8, { "大武口区", NULL } },
	{ "CN-QH", "西宁市", 30, { "城东区", "城中区", "城西区", "城北区",
	    NULL } },
	{ "CN-QH", "海东市", 8, { "乐都区", NULL } },
	{ "CN-XZ", "拉萨市", 20, { "城关区", "堆龙德庆区", NULL } },
	{ "CN-XZ", "日喀则市", 8, { "桑珠孜区", NULL } },
};

/* Common road names, used with 路, 街 or 大道. */
static const char *const gen_roads[] = {
	"人民", "解放", "中山", "建设", "和平", "新华", "胜利", "文化",
	"朝阳", "青年", "长江", "黄河", "友谊", "光明", "幸福", "学府",
	"科技", "东风", "五一", "滨江", "湖滨", "迎宾", "工业", "北京",
	"上海", "南京", "延安", "复兴", "公园", "团结", "花园", "府前",
	"金融", "体育", "健康", "环城", "新民", "民主", "红旗", "振兴",
	"育才", "商业", "园林", "沿江", "世纪", "创业", "兴业", "望江",
};

/* Road name suffixes: direction (only before 路) and kind. */
static const char *const gen_road_dirs[] = { "东", "西", "南", "北", "中" };

/* Residential estates, as the start of a building/unit/room part. */
static const char *const gen_estates[] = {
	"阳光花园", "锦绣家园", "幸福小区", "金色家园", "翠苑小区",
	"丽景苑", "华府", "名都花园", "学府花园", "滨江花园", "世纪城",
	"绿城小区", "书香苑", "龙湖花园", "碧水湾", "山水人家",
	"和谐家园", "康乐小区", "凤凰城", "富丽华庭", "御景湾", "新村",
};

/*
 * Mobile prefixes (first three digits) by operator, weighted in per-mille
 * of subscribers: China Mobile about 57%, China Telecom about 23%, China
 * Unicom about 19%; within an operator the older 13x/15x ranges weigh
 * more than the newer 17x/19x ones.
 */
#define GEN_CM	1	/* China Mobile */
#define GEN_CU	2	/* China Unicom */
#define GEN_CT	3	/* China Telecom */

struct gen_prefix {
	uint16_t prefix;
	uint8_t op;
	uint8_t w;
};

static const struct gen_prefix gen_prefixes[] = {
	{ 134, GEN_CM, 30 }, { 135, GEN_CM, 45 }, { 136, GEN_CM, 45 },
	{ 137, GEN_CM, 45 }, { 138, GEN_CM, 55 }, { 139, GEN_CM, 55 },
	{ 147, GEN_CM, 8 }, { 150, GEN_CM, 30 }, { 151, GEN_CM, 30 },
	{ 152, GEN_CM, 25 }, { 157, GEN_CM, 12 }, { 158, GEN_CM, 35 },
	{ 159, GEN_CM, 35 }, { 178, GEN_CM, 15 }, { 182, GEN_CM, 25 },
	{ 183, GEN_CM, 25 }, { 184, GEN_CM, 8 }, { 187, GEN_CM, 30 },
	{ 188, GEN_CM, 20 }, { 198, GEN_CM, 12 },
	{ 130, GEN_CU, 25 }, { 131, GEN_CU, 22 }, { 132, GEN_CU, 22 },
	{ 145, GEN_CU, 5 }, { 155, GEN_CU, 20 }, { 156, GEN_CU, 22 },
	{ 166, GEN_CU, 15 }, { 175, GEN_CU, 10 }, { 176, GEN_CU, 12 },
	{ 185, GEN_CU, 17 }, { 186, GEN_CU, 25 },
	{ 133, GEN_CT, 35 }, { 149, GEN_CT, 6 }, { 153, GEN_CT, 30 },
	{ 173, GEN_CT, 20 }, { 177, GEN_CT, 22 }, { 180, GEN_CT, 25 },
	{ 181, GEN_CT, 22 }, { 189, GEN_CT, 35 }, { 191, GEN_CT, 15 },
	{ 199, GEN_CT, 20 },
};

/* A domain and its weight. */
struct gen_domain {
	const char *name;
	uint8_t w;
};

/*
 * Domains of pinyin-based contact addresses.  Numeric QQ addresses
 * (always @qq.com) and phone-number addresses are chosen separately, so
 * qq.com here is the share of QQ Mail users with an English alias.
 */
static const struct gen_domain gen_contact_domains[] = {
	{ "163.com", 26 }, { "qq.com", 16 }, { "126.com", 10 },
	{ "sina.com", 8 }, { "sohu.com", 4 }, { "gmail.com", 8 },
	{ "outlook.com", 6 }, { "foxmail.com", 6 }, { "aliyun.com", 3 },
	{ "yeah.net", 3 }, { "139.com", 6 },
};

/* Domains of pinyin-based account ids (Apple-ID-like logins). */
static const struct gen_domain gen_account_domains[] = {
	{ "icloud.com", 45 }, { "me.com", 6 }, { "163.com", 14 },
	{ "qq.com", 8 }, { "126.com", 6 }, { "gmail.com", 9 },
	{ "outlook.com", 6 }, { "hotmail.com", 3 }, { "sina.com", 3 },
};

/* Numbers people put in their mail names for luck or love. */
static const char *const gen_lucky[] = {
	"520", "1314", "666", "888", "168", "123", "5201314", "8888",
	"999", "6666", "521", "111", "2008", "258", "886", "007",
};

#endif
