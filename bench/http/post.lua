-- SPDX-License-Identifier: Apache-2.0
-- wrk script for POST /v1/echo (bench/http/run.sh): a ~100-byte JSON body.
-- run.sh reads the body from the wrk.body line below for its curl check.
wrk.method = "POST"
wrk.body = '{"phone":"+8613800138000","purpose":"support","ticket":"T-2026-0001234","agent":"agent-042"}'
wrk.headers["Content-Type"] = "application/json"
