// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* libFuzzer target: the control protocol decoder, as the lender and the
 * borrower run it on bytes from the network.  A decoded message is encoded
 * again and must decode to the same thing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[IAM_CTRL_MAX_LEN];
	struct iam_ctrl_run_h runs[64];
	uint32_t rkeys[64];
	struct iam_ctrl_msg m, m2;
	const char *why;
	size_t fl;
	ssize_t n;

	while (size) {
		if (iam_ctrl_frame(data, size, &fl, &why))
			return 0;
		if (!iam_ctrl_decode(data, fl, &m, &why)) {
			if (m.type == IAM_CTRL_RESERVED) {
				if (m.reserved.nruns > 64)
					goto next;
				for (uint32_t i = 0; i < m.reserved.nruns; i++)
					iam_ctrl_run_get(&m, i, &runs[i]);
				m.reserved.runs = runs;
			}
			if (m.type == IAM_CTRL_CONFIRMED) {
				if (m.confirmed.nrkeys > 64)
					goto next;
				for (uint32_t i = 0; i < m.confirmed.nrkeys;
				     i++)
					rkeys[i] = iam_ctrl_rkey_get(&m, i);
				m.confirmed.rkeys = rkeys;
			}
			n = iam_ctrl_encode(&m, out, sizeof(out));
			if (n < 0)
				abort();
			if (iam_ctrl_decode(out, (size_t)n, &m2, &why))
				abort();
			if (m2.type != m.type || m2.xid != m.xid)
				abort();
		}
next:
		data += fl;
		size -= fl;
	}
	return 0;
}
