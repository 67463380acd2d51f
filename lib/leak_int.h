/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to libvigil and its tests: what the leak reader (lib/leak.c)
 * lets tests see of its insides.
 */
#ifndef VIGIL_LEAK_INT_H
#define VIGIL_LEAK_INT_H

#include <stddef.h>

#include "vigil/leak.h"

/*
 * The most bytes of the file l ever held at once in its own buffers: the
 * raw prefix read to sniff the separator and the sampled rows.  vg_csv's
 * own buffers (64 KiB of input, one record) come on top.  The streaming
 * test checks that this stays below the sample limits whatever the
 * file's size.
 */
size_t vg__leak_held_max(const struct vg_leak *l);

#endif
