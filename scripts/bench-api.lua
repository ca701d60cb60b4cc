-- wrk script for scripts/bench-api: POST /orders with ~1 KB orders, each with a unique id.
--
-- Ids are "<run>-t<thread>-<counter>": <run> comes from the first script argument (wrk ... -- RUN [PATH]), so two runs against
-- one data directory never collide; <thread> is set per wrk thread in setup(); <counter> counts per thread.
-- Every 10th order is high-value (above the default 300 threshold), as in `orderflow bench pipeline`. PATH (default
-- /orders) is where they are posted: `scripts/bench-api --floor` posts the same bodies to /bench/echo.
--
-- done() prints machine-readable lines the driver script parses:
--   BENCH acked=<201 responses> non201=<other statuses> errors=<socket errors+timeouts> duration_us=<..>
--   BENCH p50_us=<..> p90_us=<..> p99_us=<..> max_us=<..>
--   BENCH status <code> <count>        (one line per non-201 status seen)

local threads = {}

function setup(thread)
   thread:set("tid", #threads + 1)
   table.insert(threads, thread)
end

local ITEMS = 12
local headers = { ["Content-Type"] = "application/json" }

local function items_json(price)
   local parts = {}
   for i = 1, ITEMS do
      parts[i] = string.format(
         '{"sku":"SKU-%06d-WIDGET-STANDARD-EDITION","quantity":1,"unitPrice":"%s"}', 1000 + i * 37, price)
   end
   return "[" .. table.concat(parts, ",") .. "]"
end

function init(args)
   run = args[1] or tostring(os.time())
   path = args[2] or "/orders"
   counter = 0
   acked = 0
   non201 = 0
   statuses = {}
   -- 12 x 2.00 = 24.00 (normal); 12 x 26.00 = 312.00 (high-value, > 300).
   normal_items = items_json("2.00")
   high_items = items_json("26.00")
end

function request()
   counter = counter + 1
   local items = (counter % 10 == 0) and high_items or normal_items
   local body = string.format(
      '{"orderId":"%s-t%d-%d","customerId":"customer-%04d","currency":"USD","items":%s}',
      run, tid, counter, counter % 1000, items)
   return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
   if status == 201 then
      acked = acked + 1
   else
      non201 = non201 + 1
      statuses[status] = (statuses[status] or 0) + 1
   end
end

function done(summary, latency, requests)
   local total_acked, total_non201, by_status = 0, 0, {}
   for _, thread in ipairs(threads) do
      total_acked = total_acked + thread:get("acked")
      total_non201 = total_non201 + thread:get("non201")
      for code, count in pairs(thread:get("statuses")) do
         by_status[code] = (by_status[code] or 0) + count
      end
   end
   local e = summary.errors
   local errors = e.connect + e.read + e.write + e.timeout
   io.write(string.format("BENCH acked=%d non201=%d errors=%d timeouts=%d duration_us=%d\n",
      total_acked, total_non201, errors, e.timeout, summary.duration))
   io.write(string.format("BENCH p50_us=%d p90_us=%d p99_us=%d max_us=%d\n",
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
   for code, count in pairs(by_status) do
      io.write(string.format("BENCH status %s %d\n", tostring(code), count))
   end
end
