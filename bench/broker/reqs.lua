-- SPDX-License-Identifier: Apache-2.0
-- wrk script for bench/broker/run.sh: replays the requests listed in the
-- file named by the first script argument, one per line:
--   METHOD<TAB>PATH<TAB>API-KEY<TAB>JSON-BODY
-- Each wrk thread starts at a different offset and walks the list in
-- order, so every request is one the workload prepared (a reveal under
-- an open case assigned to the caller, or a lookup of a real phone).
local reqs = {}
local n, i = 0, 0

function init(args)
  for line in io.lines(args[1]) do
    local m, p, k, b = line:match("^([^\t]+)\t([^\t]+)\t([^\t]+)\t(.*)$")
    n = n + 1
    reqs[n] = wrk.format(m, p, {
      ["Authorization"] = "Bearer " .. k,
      ["Content-Type"] = "application/json",
    }, b)
  end
  i = math.random(n) - 1
end

function request()
  i = i % n + 1
  return reqs[i]
end
